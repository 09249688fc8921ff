// The page's views, in the order they draw. A view is a module with one class following the contract in
// core/bus.js (mount); adding one means writing it and naming it here.

import { ModelTitle, StepCaption } from "./captions.js";
import { Diagram } from "./diagram.js";
import { Phase } from "./equation.js";
import { Gradients } from "./gradients.js";
import { Heatmaps } from "./heatmaps.js";
import { Lines } from "./lines.js";
import { Predictions } from "./predictions.js";
import { Saturation } from "./saturation.js";
import { Tokens } from "./tokens.js";

export const VIEWS = [Diagram, Heatmaps, Lines, Tokens, Predictions, Gradients, Saturation, Phase, StepCaption, ModelTitle];
