export interface Case {
  /** The model's response; a bare answer is wrapped in \boxed{} unless `raw` is set. */
  response: string;
  gold: string;
  correct: boolean;
  /** Why the expected verdict is right. */
  why: string;
  raw?: boolean;
}

export const c = (response: string, gold: string, correct: boolean, why: string): Case => ({ response, gold, correct, why });
export const raw = (response: string, gold: string, correct: boolean, why: string): Case => ({ response, gold, correct, why, raw: true });
