// The page's own words in its language (the view state's lang). English is the source: each message's English is
// its key, and the server puts the language's table into the page's config (app/i18n: the same table the templates
// read), so tr("Copy link") is "复制链接" on a page opened with lang=zh. A message the table lacks stays English
// (tests/test_i18n.py checks that zh.json has every message tr() and the templates use).

const config = JSON.parse(document.getElementById("gatescope-config")?.textContent ?? "{}");
const WORDS = config.words ?? {};

/** The page's language: "en" or "zh". */
export const LANG = config.lang === "zh" ? "zh" : "en";

/** message in the page's language, its {name} fields filled from fields. */
export function tr(message, fields = {}) {
  const text = WORDS[message] ?? message;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in fields ? String(fields[name]) : whole));
}

/** An engine description's words in the page's language: obj[field], or its Chinese (obj.zh[field]) on a zh page. */
export function local(obj, field) {
  return (LANG === "zh" && obj?.zh?.[field]) || obj?.[field];
}
