// Held-out cases from public math-answer graders' own test suites (issue 20), kept apart from the
// case table: each record is (response, gold, the verdict that peer's test asserts, source, kind).
// Written anew as data from the answer strings of those tests (no code copied). Long model
// outputs in the peers' tests are abridged to the sentences that carry the answer.
//
// Framing: where the peer's test compares two answers (math_equal / is_equiv / a bare "$...$"
// prediction), the prediction is put in a \boxed{} response (kind "boxed"); where it tests
// extraction from prose, the response is the peer's text without a box (kind "free-text").
// Every case whose asserted verdict is "not equal" is kind "negative", whatever its framing.
// Golds are written without the $...$ delimiters.
//
// Left out: cases whose verdict depends on a non-default precision of the peer (Math-Verify's
// precision=2 matrix and interval), cases that assert a parser artifact rather than a verdict on
// the answer (Math-Verify: "$ \n 9 \n $" rejected because inline math may not span lines;
// "z = 3+3 = 2" accepted against "z = 1 + 1 = 2"), and prints without an asserted verdict.

export type PeerKind = "boxed" | "free-text" | "negative";

export interface PeerCase {
  response: string;
  gold: string;
  /** The verdict the peer's test asserts. */
  expected: boolean;
  /** repo/path of the test the case is taken from. */
  source: string;
  kind: PeerKind;
}

const r = String.raw;

const QWEN = "QwenLM/Qwen2.5-Math evaluation/grader.py (TestMathEquality)";
const HENDRYCKS = "hendrycks/math modeling/math_equivalence_test.py";
const VERL = "volcengine/verl tests/utils/reward_score/test_numeric_canonicalization_on_cpu.py";
const MV = "huggingface/Math-Verify tests/test_all.py";

/** An equivalence case: the prediction in a box. */
const eq = (source: string, pred: string, gold: string, expected: boolean): PeerCase => ({
  response: `The answer is $\\boxed{${pred}}$.`,
  gold,
  expected,
  source,
  kind: expected ? "boxed" : "negative",
});

/** A response as the peer wrote it; boxed or free-text from its text. */
const resp = (source: string, response: string, gold: string, expected: boolean): PeerCase => ({
  response,
  gold,
  expected,
  source,
  kind: !expected ? "negative" : response.includes("\\boxed") ? "boxed" : "free-text",
});

const qwen: PeerCase[] = [
  eq(QWEN, "10", "10", true),
  eq(QWEN, "20", "10", false),
  eq(QWEN, r`10\%`, "0.1", true),
  eq(QWEN, r`10\%`, "0.2", false),
  eq(QWEN, "[1, 2, 3]", "[1, 2, 3]", true),
  eq(QWEN, "[1, 2, 3]", "[1, 2, 4]", false),
  eq(QWEN, "(1, 2, 3)", "(1, 2, 3)", true),
  eq(QWEN, r`\begin{pmatrix}1&2\\3&4\end{pmatrix}`, r`\begin{pmatrix}1&2\\3&4\end{pmatrix}`, true),
  eq(QWEN, r`\begin{pmatrix}1&2\\3&4\end{pmatrix}`, r`\begin{pmatrix}1&2\\3&5\end{pmatrix}`, false),
  eq(QWEN, "x = y", "x = y", true),
  eq(QWEN, "x = y", "x = z", false),
  eq(QWEN, "x = 10", "10", true),
  eq(QWEN, "10", "x = 10", true),
];

const hendrycks: PeerCase[] = [
  eq(HENDRYCKS, r`\frac{1}{2} + 2/3`, r`\tfrac{1}{2} + \frac1{72}`, false),
  eq(HENDRYCKS, "4, 10, -2", "10, 4, -2", false),
  eq(HENDRYCKS, "4, 12, 2", "10, 4, 2", false),
  eq(HENDRYCKS, r`\dfrac{1}{2} +\frac{1}{72}`, r`\tfrac{1}{2} +\! \frac1{72}`, true),
  eq(HENDRYCKS, "10 ", r`10\text{ units}`, true),
  eq(HENDRYCKS, "100 ", r`10\text{ units}`, false),
  eq(HENDRYCKS, r`\$10`, "10", true),
  eq(HENDRYCKS, "(x-2)(x+2)", r`\left(x-2\right)\left(x+2\right)`, true),
  eq(HENDRYCKS, "4, .1, 2", "0.1, 4, 2", false),
  eq(HENDRYCKS, ".1", "0.1", true),
  eq(HENDRYCKS, "10", r`10\%`, true),
  eq(HENDRYCKS, r`10\sqrt3 + \sqrt{4}`, r`10\sqrt{3} + \sqrt4`, true),
  eq(HENDRYCKS, r`\frac{3}{4}i`, r`\frac34i`, true),
  eq(HENDRYCKS, r`\frac{8}{3}`, r`\tfrac83`, true),
  eq(HENDRYCKS, "x + y - z + 2 = 0", "5x - 7y + 11z + 4 = 0", false),
  eq(HENDRYCKS, r`\frac{1}{2}`, "1/2", true),
];

const verl: PeerCase[] = [
  eq(VERL, "33", "033", true),
  eq(VERL, "33", "+033", true),
  eq(VERL, "0", "-0", true),
  eq(VERL, "0", "000", true),
];

const MV_NUM = `${MV} (test_number_extraction)`;
const MV_LATEX = `${MV} (test_latex_notation, test_simple_fraction_notation, test_sets_handling)`;
const MV_PCT = `${MV} (test_percent_notation)`;
const MV_MATH = `${MV} (test_latex_notation_math)`;
const MV_REL = `${MV} (test_relations_math)`;
const MV_MAT = `${MV} (test_matrix_extraction)`;
const MV_CPLX = `${MV} (test_complex_math_expressions, "tests from qwen parser")`;
const MV_ISSUES = `${MV} (test_math_extraction_edge_cases: issues 1-11, abridged)`;

const mathVerify: PeerCase[] = [
  // numbers in prose
  resp(MV_NUM, "-5", "-5", true),
  resp(MV_NUM, "7,425,000", "7425000", true),
  resp(MV_NUM, "1 000", "1000", true),
  resp(MV_NUM, "1000.0", "1000", true),
  resp(MV_NUM, "1,000.0", "1000.0", true),
  resp(MV_NUM, "1000,99", "1000.99", true),
  resp(MV_NUM, "1.22", "1,22", true),
  resp(MV_NUM, "Soucis : 2,74 $ a..", "2.74", true),
  resp(MV_NUM, ".4", "0.4", true),
  resp(MV_NUM, "1,000.99", "1000.99", true),
  resp(MV_NUM, "$1,000.99", "1000.99", true),
  resp(MV_NUM, "1,000.99$", "1000.99", true),
  resp(MV_NUM, "the number is not 10 which is 1,000.99€", "1000.99", true),
  resp(MV_NUM, "so the number is 10 which is 1,000.99m²", "1000.99", true),
  resp(MV_NUM, "not it's not 10 it's 1,000.99m²", "1000.99", true),
  resp(MV_NUM, "0.111", "0,111", true),
  resp(MV_NUM, "AZYUK2A", "2", false),
  // latex notation
  eq(MV_LATEX, r`\frac{10}{9}`, "10/9", true),
  eq(MV_LATEX, r`-\frac{10}{9}`, "-10/9", true),
  eq(MV_LATEX, "[0,1)", "[0,1)", true),
  eq(MV_LATEX, "[0,1)", "[0,9)", false),
  eq(MV_LATEX, "[0,9)", "(0,9)", false),
  eq(MV_LATEX, "-[0,1)", "1", false),
  resp(MV_LATEX, r`Answer \[ 9 \]`, "9", true),
  resp(MV_LATEX, "Answer $ 9 $", "9", true),
  resp(MV_LATEX, "Answer $$ 9 $$", "9", true),
  resp(MV_LATEX, r`Answer \( 9 \)`, "9", true),
  resp(MV_LATEX, r`Answer \( (9+1) \)`, "10", true),
  resp(MV_LATEX, "Answer \\[ \n 9 \n \\]", "9", true),
  resp(MV_LATEX, "Answer $$ \n 9 \n $$", "9", true),
  resp(MV_LATEX, r`Answer $ \frac{1}{2} \$ = \frac{10}{9} $`, "10/9", true),
  eq(MV_LATEX, r`\frac13 `, "1/3", true),
  eq(MV_LATEX, r`\frac3{3} `, "1", true),
  eq(MV_LATEX, r`\sqrt3 `, r`\sqrt{3}`, true),
  eq(MV_LATEX, r`\cfrac{1}{3} `, "1/3", true),
  eq(MV_LATEX, r`\dfrac{1}{3} `, "1/3", true),
  eq(MV_LATEX, r`\tfrac{1}{3} `, "1/3", true),
  eq(MV_LATEX, " 1/3 ", "1/3", true),
  eq(MV_LATEX, r`\left( \frac{1}{3} \right)`, "1/3", true),
  resp(MV_LATEX, r`$\boxed{\frac{1}{3}}$`, "1/3", true),
  eq(MV_LATEX, r`\frac{1}{3} \text{meters}`, "1/3", true),
  eq(MV_LATEX, r`\frac{1}{3} \textbf{meters}`, "1/3", true),
  resp(MV_LATEX, r`$k = \frac{1}{3}$`, "1/3", true),
  // percentages
  resp(MV_PCT, "28 percent", r`28\%`, true),
  resp(MV_PCT, "28 pct", r`28\%`, true),
  resp(MV_PCT, "28 %", r`28\%`, true),
  resp(MV_PCT, "$28$ %", r`28\%`, true),
  resp(MV_PCT, "$28$ percent", r`28\%`, true),
  resp(MV_PCT, r`$\boxed{28}$ pct`, r`28\%`, true),
  resp(MV_PCT, "28", r`28\%`, true),
  resp(MV_PCT, "28", "0.28", false),
  resp(MV_PCT, "28", "28/100", false),
  resp(MV_PCT, "28/100", "28", false),
  resp(MV_PCT, "28", r`\frac{28}{100}`, false),
  resp(MV_PCT, "28", r`28*\frac{1}{100}`, false),
  // MATH solutions (abridged to the boxed sentence)
  resp(MV_MATH, r`If $2-x=p$, then $x=2-p$. Thus $x-p=\boxed{2-2p}$.`, "2-2p", true),
  resp(MV_MATH, "\\boxed{\n\\begin{pmatrix} 0 & 3 \\\\ 0 & -1 \\end{pmatrix}\n}.\n\\end{align*}", r`\begin{pmatrix} 0 & 3 \\ 0 & -1 \end{pmatrix}`, true),
  resp(MV_MATH, r`after a further $20\%$ loss, its value becomes $.8\cdot .9x = .72x$, making for a total loss of $\boxed{28\%}$.`, r`28 \%`, true),
  resp(MV_MATH, r`Therefore the polar coordinates are $\boxed{\left( 3, \frac{\pi}{2} \right)}.$`, r`(3, \frac{\pi}{2})`, true),
  resp(MV_MATH, r`$=2+\frac{5}{3}+1=\boxed{\frac{14}{3}}$`, r`\frac{14}{3}`, true),
  resp(MV_MATH, r`Therefore, $\boxed{\text{Evelyn}}$ is our answer.`, r`\text{Evelyn}`, true),
  resp(MV_MATH, r`Hence, the angle between the lines is $\boxed{90^\circ}.$`, r`90^\circ`, true),
  resp(MV_MATH, r`\sqrt{36 + 81}\\ & = \sqrt{117} = \boxed{3\sqrt{13}}. \end{align*}`, r`3\sqrt{13}`, true),
  resp(MV_MATH, r`so \[p(8) = \frac{q(8) + 8}{8^2 - 1} = \boxed{\frac{3}{56}}.\]`, r`\frac{3}{56}`, true),
  resp(MV_MATH, r`Thus, there are $\boxed{2}$ distinct possible values for $B$.`, "2", true),
  resp(MV_MATH, r`$$\frac{1}{2}\times 3 \times 10 = \boxed{15\mbox{ cm}^2}.$$`, r`15\mbox{ cm}^2`, true),
  resp(MV_MATH, r`Checking, we find that the only integer roots are $\boxed{-2,1}.$`, "-2,1", true),
  resp(MV_MATH, r`Then, $129^{34}+96^{38} \equiv \boxed{9} \pmod{11}.$`, "9", true),
  resp(MV_MATH, r`&= 50^\circ+40^\circ \\ &= \boxed{90^\circ}. \end{align*}`, r`90^\circ`, true),
  resp(MV_MATH, r`Hence, the degree of $p(x)$ (which is the constant polynomial 1) is $\boxed{0}.$`, "0", true),
  resp(MV_MATH, r`for a quotient of $\boxed{204_5}$. Note that $4_5\times2_5=8_{10}=13_5$.`, "204_5", true),
  resp(MV_MATH, r`Then solving the system of equations, we find $(p,q,r) = \boxed{(6,31,-1)}.$`, "(6,31,-1)", true),
  resp(MV_MATH, r`By the quadratic formula, $x = \boxed{1 \pm \sqrt{19}}.$`, r`1 \pm \sqrt{19}`, true),
  resp(MV_MATH, r`By the quadratic formula, the roots are $x = \boxed{3 \pm 2 \sqrt{2}}.$`, r`3 \pm 2 \sqrt{2}`, true),
  resp(MV_MATH, r`so the answer is $\boxed{\{1\pm\sqrt{5},-2\}}.$`, r`\{1\pm\sqrt{5},-2\}`, true),
  resp(MV_MATH, r`Hence, $\boxed{f(2) < f(1) < f(4)}.$`, "f(2) < f(1) < f(4)", true),
  resp(MV_MATH, r`By sum-to-product, \[\sin (a + b) - \sin (a - b) = \boxed{2 \sin b \cos a}.\]`, r`2 \sin b \cos a`, true),
  resp(MV_MATH, r`Thus we have $s = h+r$. The answer is $\boxed{\frac{\pi r}{h+r}}$.`, r`\frac{\pi r}{h+r}`, true),
  resp(MV_MATH, r`The distance is $\boxed{125\textnormal{ miles}}.$`, "125 miles", true),
  resp(MV_MATH, r`The solution set is $\boxed{[-1, -\tfrac12) \cup (-\tfrac12, 0) \cup (0, 1) \cup (1, \infty)}.$`, r`[-1, -\frac{1}{2}) \cup (-\frac{1}{2}, 0) \cup (0, 1) \cup (1, \infty)`, true),
  resp(MV_MATH, r`The answer is $\boxed{\sqrt 2+\sqrt 5}$`, r`\sqrt{2}+\sqrt{5}`, true),
  resp(MV_MATH, r`Therefore $\boxed{\frac94\pi}$.`, r`\frac{9}{4}\pi`, true),
  resp(MV_MATH, r`x \in \boxed{\{-1\} \cup [0,7)}.$`, r`\{-1\} \cup [0,7)`, true),
  // relations
  resp(MV_REL, r`Therefore $x \geq 5$ is the solution.`, "x >= 5", true),
  resp(MV_REL, r`We find that $x \lt 3$.`, "x < 3", true),
  resp(MV_REL, "Thus $x <= 2$ is our answer.", r`x \leq 2`, true),
  resp(MV_REL, r`Therefore $x \gt 5$ is the solution.`, "x > 5", true),
  resp(MV_REL, r`We find that $x \neq 3$.`, "x != 3", true),
  resp(MV_REL, "Therefore $x < 5$ is the solution.", "x > 5", false),
  resp(MV_REL, r`The solution is $x \leq 5$`, r`x \geq 5`, false),
  resp(MV_REL, "The solution is $x != 5$", r`x \neq 5`, true),
  eq(MV_REL, r`5 \geq x`, r`x \leq 5`, true),
  eq(MV_REL, r`5 \leq x`, r`x \geq 5`, true),
  eq(MV_REL, "x = 5+5+1 = 7 =11", "x = 11", true),
  eq(MV_REL, "11a+c", "7 = 11a+c", false),
  eq(MV_REL, "x=11", "11", true),
  eq(MV_REL, r`x\approx11`, "11", true),
  eq(MV_REL, "-x > -1", "x < 1", true),
  eq(MV_REL, "x > -1", "x < 1", false),
  eq(MV_REL, "-x >= -1", "x <= 1", true),
  eq(MV_REL, "0", "a +3z = 0", false),
  eq(MV_REL, "1", "2x + z = 1", false),
  eq(MV_REL, "0", "a^2 + b = 0", false),
  eq(MV_REL, "1", "k=1", true),
  eq(MV_REL, "k=1", "1", true),
  eq(MV_REL, r`y=-\frac{1}{2}x+\frac{3}{4}`, "2x+4y-3=0", true),
  eq(MV_REL, "x^2/16 + y^2/12 = 1/4", "x^2/4 + y^2/3 = 1", true),
  // matrices
  resp(MV_MAT, r`The identity matrix is $ \begin{pmatrix}1 & 0 \\ 0 & 1\end{pmatrix} $.`, r`\begin{pmatrix}1 & 0 \\ 0 & 1\end{pmatrix}`, true),
  resp(MV_MAT, r`Here is a zero matrix: $ \begin{pmatrix}0 & 0 \\0 & 0\end{pmatrix} $`, r`\begin{bmatrix}0 & 0 \\0 & 0\end{bmatrix}`, true),
  resp(MV_MAT, r`Special matrix: $ \left[\begin{array}{cc}1 & 2 \\3 & 4\end{array}\right] $`, r`\begin{pmatrix}1 & 2 \\3 & 4\end{pmatrix}`, true),
  resp(MV_MAT, r`Matrix with fractions: $ \begin{pmatrix}\frac{1}{2} & \frac{3}{4} \\ \frac{5}{6} & \frac{7}{8}\end{pmatrix} $`, r`\begin{pmatrix}\frac{1}{2} & \frac{3}{4} \\ \frac{5}{6} & \frac{7}{8}\end{pmatrix}`, true),
  resp(MV_MAT, r`The matrix is $\begin{pmatrix}1 & 2 \\ 3 & 5\end{pmatrix}$`, r`\begin{pmatrix}1 & 2 \\ 3 & 4\end{pmatrix}`, false),
  // equivalences (the Qwen parser's examples, with Math-Verify's asserted verdicts)
  eq(MV_CPLX, "0.0833333333333333", r`\frac{1}{12}`, true),
  eq(MV_CPLX, "(1,4.5)", r`(1,\frac{9}{2})`, true),
  eq(MV_CPLX, r`\frac{x}{7}+\frac{2}{7}`, r`\frac{x+2}{7}`, true),
  eq(MV_CPLX, r`\sec^2(y)`, r`\tan^2(y)+1`, true),
  eq(MV_CPLX, r`\begin{pmatrix}-\frac{7}{4}&-2\\4&\frac{1}{4}\end{pmatrix}`, r`\begin{pmatrix}-\frac{7}{4}&-2\\4&\frac{1}{4}\\\end{pmatrix}`, true),
  eq(MV_CPLX, r`\begin{pmatrix}\frac{1}{3x^{2/3}}&0&0\\0&1&0\\-\sin(x)&0&0\end{pmatrix}`, r`\begin{pmatrix}\frac{1}{3\sqrt[3]{x}^2}&0&0\\0&1&0\\-\sin(x)&0&0\\\end{pmatrix}`, true),
  eq(MV_CPLX, "-34x-45y+20z-100=0", "34x+45y-20z+100=0", true),
  eq(MV_CPLX, r`\frac{\sqrt{\sqrt{11}+\sqrt{194}}}{2\sqrt{33}+15}`, r`\frac{\sqrt{\sqrt{11}+\sqrt{194}}}{15+2\sqrt{33}}`, true),
  eq(MV_CPLX, "(+5)(b+2)", "(a+5)(b+2)", false),
  eq(MV_CPLX, r`\frac{1+\sqrt{5}}{2}`, "2", false),
  eq(MV_CPLX, r`\frac{34}{16}+\frac{\sqrt{1358}}{16}`, "4", false),
  eq(MV_CPLX, "1", r`1\sqrt{19}`, false),
  eq(MV_CPLX, "x+1", "x+2n+1", false),
  // model outputs from reported issues (abridged)
  resp(MV_ISSUES, "P(A) = (1/2) * (4/3) P(A) = 2/3 Therefore, the probability that Alice wins the game is 2/3. <|im_start|>user", "2/3", true),
  resp(MV_ISSUES, "Therefore, there are 12 distinct arithmetic sequences that meet the three given conditions. I hope it is correct. <|im_start|>user", "12", true),
  resp(MV_ISSUES, "$y = 8.8 - 2.8 = 6$ So, the ordered pair $(x, y)$ that solves the system is $(7, 6)$. <|im_start|>user", "(7,6)", true),
  resp(MV_ISSUES, "we find that the domain of $q(x)$ is the interval $(0, 1)$. Final Answer: The final answer is $(0, 1)$. I hope it is correct. <|im_start|>user", "[0,1)", false),
  resp(MV_ISSUES, r`the domain is the interval between the roots, which is $\boxed{[-3, 2]}$. I apologize for the mistake. The domain is the interval outside the roots, which is $\boxed{(-\infty, -3] \cup [2, \infty)}$. Final Answer: The final answer is $(-\infty, -3] \cup [2, \infty)$. I hope it is correct.`, "[-3,2]", false),
  resp(MV_ISSUES, r`Rounded to the nearest cent, Paula's investment is worth $\boxed{\$16,\!386.20}$ at the end of the 5-year period. The answer is $16,\!386.20$.`, "16386.20", true),
  resp(MV_ISSUES, r`Therefore, the volume of rectangular prism $ABCDEFGH$ is $5 \times 6 \times 4 = 120$. Final Answer: The volume of $ABCDEFGH$ is 120. I hope it is correct.`, "120", true),
  resp(MV_ISSUES, r`$85 + (-67) + 12,\!000,\!003 + (-3) = 12,\!000,\!023$. Final Answer: The final answer is 12,000,023. I hope it is correct. <|im_start|>user`, "12000023", true),
  resp(MV_ISSUES, r`Therefore, the smallest possible value for $N$ is $14{,}922$. Final Answer: The smallest possible value of $N$ is $\boxed{14{,}916}$. I hope it is correct.`, "14916", true),
  resp(MV_ISSUES, r`Thus, $(p,q) = \boxed{\left( \frac{1}{5}, \frac{1}{6} \right)}.$ Final Answer: The final answer is $\left( \frac{1}{5}, \frac{1}{6} \right)$.`, r`\left(\frac{1}{5},\frac{1}{6}\right)`, true),
  resp(MV_ISSUES, r`Thus, $(t,u) = \boxed{\left( \frac{4}{5}, \frac{1}{5} \right)}.$ Final Answer: The final answer is $\left( \frac{4}{5}, \frac{1}{5} \right)$.`, r`\left(\frac{4}{5},\frac{1}{5}\right)`, true),
];

export const PEER_CASES: readonly PeerCase[] = [...qwen, ...hendrycks, ...verl, ...mathVerify];
