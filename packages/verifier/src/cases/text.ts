import { c, type Case } from "./types.js";

export const textAnswers: Case[] = [
  c("\\text{Monday}", "Monday", true, "a day name in \\text"),
  c("monday", "Monday", true, "text answers ignore case"),
  c("Tuesday", "Monday", false, "a different day"),
  c("\\text{(C)}", "C", true, "a choice letter in parentheses"),
  c("C", "(C)", true, "a bare choice letter against (C)"),
  c("(D)", "(C)", false, "a different choice"),
  c("\\textbf{(E)}", "\\text{(E)}", true, "bold choice letter"),
  c("\\text{even}", "\\text{even}", true, "the same word"),
  c("\\text{odd}", "\\text{even}", false, "a different word"),
  c("\\text{No solution}", "no solution", true, "a phrase"),
  c("\\text{no real solutions}", "no solution", false, "a different phrase"),
  c("\\text{yes}", "Yes", true, "yes/no"),
  c("\\text{no}", "Yes", false, "yes/no"),
  c("\\text{Devon}", "\\text{Devon}", true, "a name"),
  c("Devon", "\\text{Evan}", false, "another name"),
  c("\\text{east}", "\\text{East}", true, "a direction"),
  c("\\text{infinitely many}", "infinitely many", true, "a quantity phrase"),
  c("\\text{parabola}", "\\text{(C)}", false, "a word against a choice letter"),
  c("\\text{Sunday}", "\\text{Sunday}", true, "another day"),
  c("\\text{circle}", "\\text{ellipse}", false, "a different curve"),
];
