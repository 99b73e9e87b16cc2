// Semantic equivalence families (issue 20): each rule with the negatives that must stay false.
// Both graders give these verdicts (graders.test.ts runs them under each).
import { c, raw, type Case } from "./types.js";

export const labeledAnswers: Case[] = [
  c("(a, b) = (2, 5)", "(2, 5)", true, "a tuple label names the tuple's parts"),
  c("(2, 5)", "(a, b) = (2, 5)", true, "a labeled gold against the bare tuple"),
  c("(a,b)=(5,2)", "(2, 5)", false, "the labeled tuple's values in the other order"),
  c("(b, a) = (2, 5)", "(a, b) = (2, 5)", false, "a label that names the variables in another order"),
  c("(a, b, c) = (2, 5)", "(2, 5)", false, "a label with more names than values is no label"),
  c("m = 3, n = 4", "3, 4", true, "named values against the bare list"),
  c("n = 4, m = 3", "m = 3, n = 4", true, "named values match by name, in any order"),
  c("m = 4, n = 3", "m = 3, n = 4", false, "the names swap the values"),
  c("a = 3, b = 4", "m = 3, n = 4", false, "a label that names a different variable"),
  c("4, 3", "m = 3, n = 4", false, "an unlabeled list against named values is read in the gold's order"),
  c("3, 4", "m = 3, n = 4", true, "an unlabeled list in the gold's order"),
  c("S_1 : S_2 = 2 : 9", "2:9", true, "a labeled ratio"),
  c("S_1 : S_2 = 9 : 2", "2:9", false, "the ratio reversed"),
  c("x = 3", "y = 3", false, "an assignment to a different variable"),
  c("x \\in (1, 4]", "(1, 4]", true, "membership in an interval"),
  c("(1, 4]", "x \\in (1, 4]", true, "a membership gold against its interval"),
  c("x \\in (1, 4]", "1 < x \\le 4", true, "membership against a double inequality"),
  c("1 < x \\le 4", "x \\in (1, 4]", true, "a double inequality against membership"),
  c("x \\in (1, 4)", "(1, 4]", false, "membership in a different interval"),
  c("x \\in [1, 4]", "1 < x \\le 4", false, "membership with a closed lower end"),
];

export const joinedAnswers: Case[] = [
  c("4 \\text{ or } -1", "-1, 4", true, "two answers joined by 'or', in any order"),
  c("-1 \\text{ and } 4", "4, -1", true, "two answers joined by 'and'"),
  c("x = 1 \\text{ or } x = -3", "-3, 1", true, "assignments joined by 'or'"),
  c("1, 2, \\text{ or } 3", "3, 2, 1", true, "a list closed by ', or'"),
  c("4 \\text{ or } 1", "-1, 4", false, "one answer differs"),
  c("4", "-1, 4", false, "a missing solution"),
  c("4 \\text{ or } -1 \\text{ or } 2", "-1, 4", false, "an extra solution"),
  c("\\text{yes or no}", "yes", false, "a phrase with 'or' is not a list"),
  raw("The points are $\\boxed{(1, 2)}$\n\n$\\boxed{(3, 4)}$", "(3,4),(1,2)", true, "two boxes separated by spacing form one list"),
  raw("First \\boxed{(1, 2)}, then we check and find \\boxed{(3, 4)}", "(3,4),(1,2)", false, "boxes separated by words are not joined: the last alone"),
  c("x < 1 \\text{ or } x > 2", "(-\\infty, 1) \\cup (2, \\infty)", true, "inequalities joined by 'or' against a union"),
  c("x \\le 1 \\text{ or } x > 2", "(-\\infty, 1) \\cup (2, \\infty)", false, "a closed end in one part"),
];

export const equations: Case[] = [
  c("y = 2x - 1", "2x - y - 1 = 0", true, "a line rearranged"),
  c("4x - 2y - 2 = 0", "y = 2x - 1", true, "a line scaled by a constant"),
  c("y = 2x + 1", "2x - y - 1 = 0", false, "a line with a different intercept"),
  c("y = x^2", "x - y = 0", false, "an equation that differs by more than a constant factor"),
  c("\\frac{x^2}{4} + \\frac{y^2}{3} = 1", "3x^2 + 4y^2 = 12", true, "an ellipse scaled by a constant"),
  c("\\frac{x^2}{4} + \\frac{y^2}{3} = 1", "4x^2 + 3y^2 = 12", false, "an ellipse with the axes swapped"),
  c("x^2 + y^2 = 12", "3x^2 + 4y^2 = 12", false, "a circle is not the ellipse"),
  c("(x-1)^2 + (y+2)^2 = 9", "x^2 - 2x + y^2 + 4y - 4 = 0", true, "a circle expanded"),
  c("(x-1)^2 + (y+2)^2 = 9", "x^2 - 2x + y^2 + 4y + 4 = 0", false, "a circle expanded with a different constant"),
  c("y^2 = 4x", "y^4 = 16x^2", false, "squaring both sides is not a constant factor"),
];

export const inequalities: Case[] = [
  c("-2x < 6", "x > -3", true, "an inequality multiplied by -1 flips"),
  c("x > -3", "-2x < 6", true, "the gold multiplied by a negative constant"),
  c("-2x < 6", "x < -3", false, "a negative factor without the flip"),
  c("2x < 6", "x > -3", false, "a positive factor with a flip"),
  c("2x + 4 \\ge 0", "x \\ge -2", true, "a positive factor keeps the direction"),
  c("2x + 4 > 0", "x \\ge -2", false, "strict against non-strict"),
  c("3 - x \\le 0", "x \\ge 3", true, "rearranged with a sign change"),
];

export const setExpressions: Case[] = [
  c("\\{1\\} \\cup \\{3, 5\\}", "\\{1, 3, 5\\}", true, "a union of finite sets is evaluated"),
  c("\\{1, 3, 5\\}", "\\{3\\} \\cup \\{1, 5\\}", true, "a union gold against its set"),
  c("\\{1\\} \\cup \\{3\\}", "\\{1, 3, 5\\}", false, "a missing element in the union"),
  c("\\{1\\} \\cup \\{3, 5, 7\\}", "\\{1, 3, 5\\}", false, "an extra element in the union"),
  c("\\{1\\} \\cup \\{1, 3, 5\\}", "\\{1, 3, 5\\}", true, "repeats across the union do not matter"),
];

export const percentWords: Case[] = [
  c("15 percent", "15\\%", true, "percent written as a word"),
  c("15 \\text{ percent}", "15\\%", true, "percent as a word in \\text"),
  c("16 percent", "15\\%", false, "a different percentage"),
  c("50\\%", "0.5", true, "a percentage against its fraction"),
  c("0.5", "50\\%", true, "a fraction against a percentage gold"),
  c("\\frac{1}{4}", "25 percent", true, "a fraction against a percentage written as a word"),
  c("5\\%", "0.5", false, "5% is not 0.5"),
];

export const divisionByZero: Case[] = [
  c("\\frac{-1}{0}", "\\frac{1}{0}", false, "a division by zero equals nothing (it used to simplify to ∞ on both sides)"),
  c("\\frac{1}{0}", "\\infty", false, "a division by zero is not infinity"),
  c("\\frac{2}{1-1}", "2", false, "a denominator that evaluates to zero"),
  c("\\frac{1}{x}", "\\frac{2}{2x}", true, "a symbolic denominator is not a division by zero"),
  c("\\frac{1}{0}", "\\frac{1}{0}", false, "a division by zero does not even equal the same text"),
  c("1/0", "1/0", false, "a slash division by zero"),
  c("\\frac{10}{20}", "\\frac{10}{20}", true, "zeros that are not denominators"),
  c("\\frac{3}{10}", "0.3", true, "a 0 in a denominator that is not zero"),
];

export const rationalFunctions: Case[] = [
  c("\\frac{x^2-1}{x-1}", "x+1", true, "the same rational function where simplify stops short"),
  c("x^2+2x+1", "(x+1)^2", true, "a square expanded"),
  c("\\frac{2}{x} + \\frac{1}{x^2}", "\\frac{2x+1}{x^2}", true, "fractions over a common denominator"),
  c("x^2+1", "(x+1)^2", false, "a missing middle term"),
  c("2(x+1)", "x+1", false, "a constant factor changes an expression (only equations may scale)"),
  c("\\frac{x^2-1}{x+1}", "x+1", false, "a different rational function"),
];

export const otherForms: Case[] = [
  c("\\{x \\mid x > 2\\}", "(2, \\infty)", true, "a set-builder set against its interval"),
  c("\\{x \\mid 1 < x \\le 3\\}", "(1, 3]", true, "a set-builder set with a double inequality"),
  c("\\{x \\mid x \\ge 2\\}", "(2, \\infty)", false, "a set-builder set with a closed end"),
  c("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "(1, 2)", true, "a column vector against a tuple"),
  c("(1, 2)", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", true, "a tuple against a column vector"),
  c("\\begin{pmatrix} 1 \\\\ 3 \\end{pmatrix}", "(1, 2)", false, "a column vector with a different entry"),
  c("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "(1, 2, 3, 4)", false, "a 2x2 matrix is not a tuple"),
  c("\\text{all real numbers}", "(-\\infty, \\infty)", true, "all real numbers as an interval"),
  c("\\mathbb{R}", "(-\\infty, \\infty)", true, "\\mathbb{R} as an interval"),
  c("\\mathbb{R}", "(0, \\infty)", false, "the reals are not the positive reals"),
  c("\\approx 3.14", "3.14", true, "a leading approximately sign"),
  c("\\approx 3.15", "3.14", false, "an approximately sign does not hide a different number"),
  c("\\text{(A) } 5", "A", true, "a choice letter with the choice's value after it"),
  c("(B) 5", "A", false, "a different choice letter with a value after it"),
  c("(A)5", "(B)", false, "the letter decides, not the text after it"),
  c("0.\\overline{3}", "\\frac{1}{3}", true, "a repeating decimal"),
  c("0.\\overline{3}", "0.3", false, "a repeating decimal is not its first digits"),
  c("\\text{infinity}", "\\infty", true, "infinity in words"),
  c("\\text{negative infinity}", "-\\infty", true, "negative infinity in words"),
  c("\\text{infinity}", "-\\infty", false, "infinity is not negative infinity"),
  c("\\text{no solution}", "\\emptyset", true, "no solution is the empty set"),
  c("\\emptyset", "\\text{no solution}", true, "the empty set against 'no solution'"),
  c("\\text{none}", "\\{1\\}", false, "'none' is not a one-element set"),
  c("\\text{no solution}", "\\{0\\}", false, "no solution is not the set holding 0"),
];
