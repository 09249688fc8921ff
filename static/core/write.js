// Text the page rewrites at every step (the step line, the captions, the phase panel's numbers). Setting textContent
// swaps the element's text node for a new one: a change of the page's tree, which the stylesheet's :has() rules answer
// by restyling the whole layout (some 2,000 elements, 5 to 10 ms a frame). Writing the text node's own data changes no
// tree, and restyles nothing.

/** el shows text: its one text node's data when it has one, else its content. */
export function writeText(el, text) {
  const node = el.firstChild;
  if (node && node === el.lastChild && node.nodeType === Node.TEXT_NODE) {
    if (node.data !== text) node.data = text;
  } else {
    el.textContent = text;
  }
}
