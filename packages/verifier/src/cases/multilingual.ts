import { raw, type Case } from "./types.js";

export const multilingual: Case[] = [
  raw("所以答案是 \\boxed{5}。", "5", true, "Chinese sentence around a box"),
  raw("因此，最终答案为 $\\boxed{\\frac{1}{2}}$", "0.5", true, "Chinese with inline math"),
  raw("答案是 \\boxed{６}", "6", true, "full-width digit in the box"),
  raw("解：\\boxed{3} 和 \\boxed{4}", "3,4", true, "Chinese 'and' joins boxes"),
  raw("Donc la réponse est \\boxed{7}.", "7", true, "French"),
  raw("Die Antwort ist \\boxed{8}.", "8", true, "German"),
  raw("La respuesta es \\boxed{9}.", "9", true, "Spanish"),
  raw("Ответ: \\boxed{10}", "10", true, "Russian"),
  raw("答えは \\boxed{11} です。", "11", true, "Japanese"),
  raw("정답은 \\boxed{12}입니다.", "12", true, "Korean"),
  raw("所以答案是 5。", "5", false, "no box: an unboxed number in any language earns nothing"),
  raw("<think>让我想想……\\boxed{2}</think>答案是 \\boxed{3}", "2", false, "Chinese, a box inside think does not count"),
  raw("Die Lösungen sind \\boxed{1} und \\boxed{2}.", "1,2", true, "German 'und' joins boxes"),
  raw("Las soluciones son \\boxed{1} y \\boxed{2}.", "2,1", true, "Spanish 'y' joins boxes"),
  raw("答案是 \\boxed{\\text{星期一}}", "\\text{星期一}", true, "a Chinese text answer"),
  raw("答案是 \\boxed{\\text{星期二}}", "\\text{星期一}", false, "a different Chinese text answer"),
  raw("Le résultat : \\boxed{3,5}", "3.5", false, "a French decimal comma is read as a list, not 3.5"),
  raw("Réponse : \\boxed{\\frac{3}{4}}", "0.75", true, "French, a fraction"),
  raw("विद्यार्थी: उत्तर \\boxed{13} है।", "13", true, "Hindi"),
  raw("الجواب هو \\boxed{14}", "14", true, "Arabic, right-to-left text"),
];
