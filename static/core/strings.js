// The page's own words, one table per language (the view state's lang: en or zh). A lesson's text is the lesson's
// data (lessons/*.json); these are the words around it. tests/test_lessons.py checks that both tables have every key.
// PAGE says where the templates' words are (templates/_partials.html): the selector, and "text" (the element's first
// words, before any control inside it) or an attribute; translate() puts a language's words there.

export const STRINGS = {
  en: {
    "lesson.next": "Next", "lesson.back": "Back", "lesson.try": "Try this", "lesson.all": "All lessons",
    "lesson.progress": "Stop {i} of {n}", "lesson.keys": "→ or PageDown: next · ← or PageUp: back · Shift+← →: time",
    "lesson.lang": "中文", "lesson.lang_title": "Read this lesson in Chinese",
    "player.first": "first step (Home)", "player.prev": "previous step (Shift+←)", "player.play": "play / pause (space)",
    "player.next": "next step (Shift+→)", "player.last": "last step (End)", "player.speed": "speed", "player.phases": "phases",
    "player.pace": "pace", "player.play_step": "▶ 1 step", "player.play_step_title": "play one step, phase by phase, then stop (.)",
    "player.shortcuts": "keyboard shortcuts (?)",
    "top.model": "Model", "top.upload": "Upload a model", "top.copy_link": "Copy link", "top.copy_embed": "Copy embed code",
    "top.compare": "Compare cells", "top.train": "Train a model", "top.export": "Export", "top.view": "View",
    "panel.heatmaps": "Every gate and state over the sequence ", "panel.heatmaps_hint": "(click a column to jump there)",
    "lines.follow": "follow", "lines.units": "units", "lines.color": "color tokens by unit",
    "chain.caption": "The same module at every step: steps {from}–{to} of {n} (click one to go there)",
    "chain.caption_short": "Steps {from}–{to} of {n}", "chain.aria": "the chain of modules over time, steps {from} to {to}",
    "chain.module": "step {t}, input “{token}”: click to go there",
    "keys.title": "Keyboard shortcuts", "keys.close": "Close",
    "keys.stop_next": "next stop of the lesson", "keys.stop_back": "previous stop of the lesson",
    "keys.clicker": "a presentation clicker sends PageDown / PageUp (some send → ←): it moves the stops",
    "keys.time": "next / previous step of time", "keys.phase": "next / previous phase of the step",
    "keys.play": "play / pause", "keys.play_step": "play one step, phase by phase, then stop",
    "keys.blank": "a clicker's blank-screen button sends b or .: b does nothing here, . plays one step",
    "keys.ends": "first / last step", "keys.list": "this list", "keys.escape": "close a menu or this list",
  },
  zh: {
    "lesson.next": "下一站", "lesson.back": "上一站", "lesson.try": "试一试", "lesson.all": "全部课程",
    "lesson.progress": "第 {i} 站，共 {n} 站", "lesson.keys": "→ 或 PageDown：下一站 · ← 或 PageUp：上一站 · Shift+← →：时间步",
    "lesson.lang": "English", "lesson.lang_title": "用英文阅读本课",
    "player.first": "第一步 (Home)", "player.prev": "上一步 (Shift+←)", "player.play": "播放 / 暂停（空格）",
    "player.next": "下一步 (Shift+→)", "player.last": "最后一步 (End)", "player.speed": "速度", "player.phases": "分阶段",
    "player.pace": "节奏", "player.play_step": "▶ 播放一步", "player.play_step_title": "逐阶段播放一步，然后停下 (.)",
    "player.shortcuts": "键盘快捷键 (?)",
    "top.model": "模型", "top.upload": "上传模型", "top.copy_link": "复制链接", "top.copy_embed": "复制嵌入代码",
    "top.compare": "比较单元", "top.train": "训练模型", "top.export": "导出", "top.view": "视图",
    "panel.heatmaps": "整个序列上的每个门和状态 ", "panel.heatmaps_hint": "（点击一列跳到那一步）",
    "lines.follow": "跟踪", "lines.units": "单元", "lines.color": "按单元给字符着色",
    "chain.caption": "每一步都是同一个模块：第 {from}–{to} 步，共 {n} 步（点击一个模块跳到那一步）",
    "chain.caption_short": "第 {from}–{to} 步，共 {n} 步", "chain.aria": "沿时间展开的模块链，第 {from} 到 {to} 步",
    "chain.module": "第 {t} 步，输入“{token}”：点击跳到这一步",
    "keys.title": "键盘快捷键", "keys.close": "关闭",
    "keys.stop_next": "课程的下一站", "keys.stop_back": "课程的上一站",
    "keys.clicker": "演示翻页笔发送 PageDown / PageUp（有些发送 → ←）：用来切换停靠站",
    "keys.time": "时间上的下一步 / 上一步", "keys.phase": "这一步的下一个 / 上一个阶段",
    "keys.play": "播放 / 暂停", "keys.play_step": "逐阶段播放一步，然后停下",
    "keys.blank": "翻页笔的黑屏键发送 b 或 .：b 在这里不起作用，. 播放一步",
    "keys.ends": "第一步 / 最后一步", "keys.list": "本列表", "keys.escape": "关闭菜单或本列表",
  },
};

/** A language's words for key, with {name} filled from vars; English when the language lacks it (a test forbids that). */
export function t(lang, key, vars = {}) {
  const text = STRINGS[lang]?.[key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

const P = (id) => `.player [data-control="${id}"]`;
export const PAGE = [
  [P("first"), "title", "player.first"], [P("first"), "aria-label", "player.first"],
  [P("prev"), "title", "player.prev"], [P("prev"), "aria-label", "player.prev"],
  [P("play"), "title", "player.play"], [P("next"), "title", "player.next"], [P("next"), "aria-label", "player.next"],
  [P("last"), "title", "player.last"], [P("last"), "aria-label", "player.last"],
  [`${P("speed")}`, "parent-text", "player.speed"], [P("phases"), "parent-after", "player.phases"], [P("pace"), "parent-text", "player.pace"],
  [P("play-step"), "text", "player.play_step"], [P("play-step"), "title", "player.play_step_title"],
  [P("shortcuts-open"), "title", "player.shortcuts"],
  ['[data-control="source"]', "aria-label", "top.model"], ['[data-control="upload"]', "parent-text", "top.upload"],
  ['[data-control="copy-link"]', "text", "top.copy_link"], ['[data-control="copy-embed"]', "text", "top.copy_embed"],
  ['header.top a[href="/compare"]', "text", "top.compare"], ['[data-control="train-open"]', "text", "top.train"],
  ['header.top details.menu:has([data-control="export-png"]) > summary', "text", "top.export"],
  ['header.top details.menu:has([data-control="presenter"]) > summary', "text", "top.view"],
  [".heatmap-panel h2", "text", "panel.heatmaps"], [".heatmap-panel h2 small", "text", "panel.heatmaps_hint"],
  ['[data-control="focus"]', "parent-text", "lines.follow"], ['[data-control="units"]', "parent-text", "lines.units"],
  ['[data-control="color-unit"]', "parent-text", "lines.color"],
  ["#shortcuts-title", "text", "keys.title"], ["#shortcuts form button", "text", "keys.close"],
];

/** The first words of el (a text node before any control inside it), replaced. */
function setWords(el, words, after = false) {
  const nodes = [...el.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
  const node = after ? nodes[nodes.length - 1] : nodes[0];
  if (node) node.textContent = after ? ` ${words}` : `${words} `;
  else el.prepend(document.createTextNode(`${words} `));
}

/** Every word of PAGE in lang, in root (the document). */
export function translate(root, lang) {
  for (const [selector, where, key] of PAGE) {
    const el = root.querySelector(selector);
    if (!el) continue;
    const words = t(lang, key);
    if (where === "text") setWords(el, words.trim());
    else if (where === "parent-text") setWords(el.closest("label") ?? el.parentElement, words);
    else if (where === "parent-after") setWords(el.closest("label") ?? el.parentElement, words, true);
    else el.setAttribute(where, words);
  }
}
