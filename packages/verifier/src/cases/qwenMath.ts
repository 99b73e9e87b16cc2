// The qwen-math grader's own cases: its extraction cascade, tolerance and percent leniency,
// written anew from the Qwen2.5-Math evaluation's documented behaviour (no code or test copied).
// `qwen` is the verdict of that protocol; `boxed` is the strict training grader's.
export interface GraderCase {
  response: string;
  gold: string;
  qwen: boolean;
  boxed: boolean;
  why: string;
}

const g = (response: string, gold: string, qwen: boolean, boxed: boolean, why: string): GraderCase => ({ response, gold, qwen, boxed, why });

export const QWEN_MATH_CASES: GraderCase[] = [
  // extraction cascade
  g("So the answer is 42.", "42", true, false, "'the answer is' when there is no box"),
  g("Thus the final answer is $\\frac{1}{2}$.", "0.5", true, false, "'final answer is' with math delimiters"),
  g("The answer is $\\boxed{7}$. Earlier I thought the answer is 6.", "7", true, true, "a box beats the phrase"),
  g("We get 3, and then 7 apples in total", "7", true, false, "the last number when nothing else is there"),
  g("We get 7, and then 3 apples are left", "7", false, false, "the last number is the answer, not an earlier one"),
  g("The answer is 1,000.", "1000", true, false, "a thousands separator in the phrase"),
  g("In total 1,250 people came", "1250", true, false, "commas between digits do not split the last number"),
  g("The answer is $5\\text{ apples}$.", "5", true, false, "a trailing \\text unit is dropped"),
  g("\\boxed{12\\text{ cm}^2}", "12", true, true, "a unit in a box"),
  g("No number here at all.", "3", false, false, "no answer"),
  g("I think 42 is a nice number. \\boxed{}", "42", false, false, "an empty box is no answer, not the last number"),
  g("so \\boxed{3", "3", true, false, "an unclosed box is read to the end of the response"),
  g("The answer is: (C)", "C", true, false, "a choice letter after the phrase"),
  g("The answer is $x = 3$.", "3", true, false, "an assignment after the phrase"),
  g("the answer is 5 and the final answer is 6", "6", false, false, "'the answer is' is tried before 'final answer is'"),
  g("<think>the answer is 4</think> So the answer is 5.", "5", true, false, "after </think>"),
  g("-3 is where it ends", "-3", true, false, "a negative last number"),
  g("it is .5 of the whole", "0.5", true, false, "a number with a leading point"),
  // tolerance
  g("\\boxed{0.3333}", "\\frac{1}{3}", true, false, "within a relative 1e-4"),
  g("\\boxed{0.333}", "\\frac{1}{3}", false, false, "outside a relative 1e-4"),
  g("\\boxed{0.8660}", "\\frac{\\sqrt{3}}{2}", true, false, "a rounded irrational within 1e-4"),
  g("\\boxed{0.87}", "\\frac{\\sqrt{3}}{2}", false, false, "a rounded irrational outside 1e-4"),
  g("\\boxed{3.1416}", "\\pi", true, false, "π to 4 decimals"),
  g("\\boxed{3.14}", "\\pi", false, false, "π to 2 decimals is too far"),
  g("\\boxed{12.8}", "12.7", false, false, "12.8 is not 12.7 (relative 8e-3)"),
  g("\\boxed{100001}", "100000", true, false, "relative 1e-5: the same number to this protocol"),
  g("\\boxed{14917}", "14916", true, false, "relative 7e-5: the same number to this protocol"),
  g("\\boxed{1492}", "1491", false, false, "relative 7e-4: different"),
  g("\\boxed{(1, 4.5)}", "(1, \\frac{9}{2})", true, true, "a tuple compared element by element"),
  g("\\boxed{(0.3333, 2)}", "(\\frac{1}{3}, 2)", true, false, "the tolerance inside a tuple"),
  // percent leniency
  g("\\boxed{50\\%}", "0.5", true, true, "a percentage against its fraction (both graders: 50% is 0.5)"),
  g("\\boxed{50}", "0.5", true, false, "without a percent sign only this protocol's leniency accepts it"),
  g("\\boxed{0.5}", "50", true, false, "a fraction against the percentage number"),
  g("\\boxed{50}", "50\\%", true, true, "the bare number against a percentage"),
  g("\\boxed{51\\%}", "0.5", false, false, "a different percentage"),
  g("\\boxed{0.15}", "15", true, false, "15 read as 15%"),
  g("\\boxed{\\frac{\\sqrt2}{200}}", "\\frac{\\sqrt2}{2}", false, false, "the percent readings apply to plain numbers only"),
  // what the strict grader also accepts
  g("\\boxed{\\frac{x+2}{7}}", "\\frac{x}{7}+\\frac{2}{7}", true, true, "a symbolic identity"),
  g("\\boxed{\\tan^2 y + 1}", "\\sec^2 y", true, true, "a trigonometric identity"),
  g("\\boxed{\\begin{pmatrix} -\\frac{7}{4} & -2 \\\\ 4 & \\frac{1}{4} \\end{pmatrix}}", "\\begin{pmatrix}-1.75&-2\\\\4&0.25\\end{pmatrix}", true, true, "a matrix element by element"),
  g("\\boxed{0.0833333333}", "\\frac{1}{12}", true, true, "a long decimal"),
  g("\\boxed{x = 3}", "3", true, true, "an assignment against a number"),
  g("\\boxed{(3, 1)}", "(1, 3)", false, false, "a tuple is ordered"),
  g("\\boxed{[1, 3)}", "(1, 3)", false, false, "interval ends differ"),
];
