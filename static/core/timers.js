// Work put off a little: at most once per interval (throttle), or once things are quiet (debounce).

/** fn at most once every ms: soon() asks for it, now() runs it at once (and settles what soon() asked). */
export function throttle(fn, ms) {
  let timer = 0, due = false;
  const now = () => { due = false; fn(); };
  return {
    now,
    soon() {
      due = true;
      if (!timer) timer = setTimeout(() => { timer = 0; if (due) now(); }, ms);
    },
  };
}

/** fn, ms after the last call. */
export function debounce(fn, ms) {
  let timer = 0;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
