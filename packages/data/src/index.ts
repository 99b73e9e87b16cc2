export { sharedDir, sharedPath, requireSharedPath } from "./shared.js";
export { DataError, writeFileAtomic, jsonlLines } from "./files.js";
export { readRegularFile } from "./readInput.js";
export { parseParquetRows, type ParquetReadOptions } from "./parquet.js";
export {
  toVerlRow,
  readVerlParquet,
  readVerlJsonl,
  readVerlDataset,
  verlParquetBuffer,
  writeVerlParquet,
  writeVerlJsonl,
  writeVerlDataset,
  type ChatMessage,
  type VerlExtraInfo,
  type VerlRow,
} from "./verl.js";
export {
  EVAL_BENCHMARKS,
  EVAL_FIELDS,
  EVAL_PROTOCOL,
  loadEvalBenchmark,
  loadEvalSuite,
  type EvalBenchmark,
  type EvalExample,
  type EvalFields,
  type BreakdownRow,
  type SubjectLevelBreakdown,
} from "./eval.js";
export { buildKShotSet, findByIndex, type KShotOptions } from "./kshot.js";
export {
  historicalVarianceScores,
  randomRanking,
  selectExamples,
  populationStd,
  seededRandom,
  parseAccuracyHistory,
  readAccuracyHistory,
  topLevelKeys,
  type HistoryInput,
  type RankedExample,
  type SelectionMethod,
} from "./selection.js";
export { checkGolds } from "./golds.js";
export { accuracyFraction, exactPopulationVariance, compareFractions, type Fraction } from "./exactVariance.js";
export { wrongAnswerFor, withWrongLabel, applyWrongLabels, applyFixedLabel, PAPER_PI1_LABELS } from "./wrongLabels.js";
export {
  StepMetricsSchema,
  PhaseSecondsSchema,
  parseStepMetrics,
  parseMetricsJsonl,
  readMetrics,
  appendMetrics,
  AccuracyHistory,
  type StepMetrics,
  type PhaseSeconds,
} from "./metrics.js";
export {
  PAPER_REFLECTION_WORDS,
  DEFAULT_REFLECTION_WORDS,
  reflectionMatchers,
  countReflectionWords,
  reflectionStats,
  responseLengthStats,
  type ReflectionOptions,
  type ReflectionStats,
  type LengthStats,
} from "./reflection.js";
