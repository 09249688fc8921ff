// The diagram's look, one source for the page and for the server's first drawing of it (app/first_paint.py, which
// reads the object below as JSON: keep it JSON, quotes and all). Its palettes: classic is the article's warm/cool
// look, sequential for gates in [0, 1] and diverging for values in [-1, 1]; colorblind is cividis and a blue-orange
// diverging scale, which read the same under the common deficiencies; mono is more ink for more, on both scales (a
// signed value from light through a mid grey, where the contrast to either end is equal, about 4.1:1, to black). Its
// sizes are pixels (normal and presenter mode); its ink stays the same under every palette (outlines, symbols,
// labels, the background, text on a coloured token, a value that is not a number).
export default {
  "palettes": {
    "classic": {
      "unit": [[0, "#f7fbff"], [0.25, "#c6dbef"], [0.5, "#6baed6"], [0.75, "#2171b5"], [1, "#08306b"]],
      "signed": [[0, "#b2182b"], [0.25, "#ef8a62"], [0.5, "#f7f7f7"], [0.75, "#67a9cf"], [1, "#2166ac"]],
      "layer": "#ffe08a",
      "op": "#f8bbd0",
      "line": "#4a4a4a",
      "state": "#222222",
      "highlight": "#e8590c",
      "series": ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
    },
    "colorblind": {
      "unit": [[0, "#00224e"], [0.25, "#414d6b"], [0.5, "#7c7b78"], [0.75, "#bcaf6f"], [1, "#fee838"]],
      "signed": [[0, "#b35806"], [0.25, "#f1a340"], [0.5, "#f7f7f7"], [0.75, "#998ec3"], [1, "#542788"]],
      "layer": "#f0e442",
      "op": "#cc79a7",
      "line": "#3a3a3a",
      "state": "#000000",
      "highlight": "#d55e00",
      "series": ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000"]
    },
    "mono": {
      "unit": [[0, "#ffffff"], [1, "#111111"]],
      "signed": [[0, "#f4f4f4"], [0.5, "#767676"], [1, "#111111"]],
      "layer": "#e6e6e6",
      "op": "#cfcfcf",
      "line": "#333333",
      "state": "#000000",
      "highlight": "#000000",
      "series": ["#000000", "#555555", "#888888", "#bbbbbb", "#222222", "#666666", "#999999", "#cccccc"]
    }
  },
  "sizes": {
    "normal": {"font": 13, "small": 11, "title": 15, "line": 1.6, "stateLine": 3.2, "cell": 11},
    "presenter": {"font": 20, "small": 16, "title": 24, "line": 3, "stateLine": 5.5, "cell": 16}
  },
  "ink": {"paper": "white", "layerEdge": "#8a6d00", "layerText": "#3a2f00", "opEdge": "#9c2759", "opText": "#4a0d2a", "cellEdge": "rgba(60,60,60,0.35)", "label": "#222", "labelBg": "rgba(255,255,255,0.92)", "pointEdge": "#333", "guide": "#bbb", "onDark": "#fff", "onLight": "#111", "missing": "rgb(200,200,200)"},
  "font": "\"DejaVu Sans\", \"Helvetica Neue\", Arial, sans-serif"
};
