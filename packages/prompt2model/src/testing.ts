/**
 * `prompt2model/testing`: the test doubles of `@prompt2model/testing` (a mock LanguageModel, loopback
 * servers that speak the real protocols, tiny ONNX model builders), reachable from the umbrella.
 * `@prompt2model/testing` is an optional peer dependency, installed by those who test with it
 * (`npm install --save-dev @prompt2model/testing`); without it this entry throws an error that says so.
 * The names are listed once here (test/public-surface.test.ts checks the list against the package);
 * the types come from `testing-types.ts`.
 */
import { importOptionalPackage } from '@prompt2model/core/internal';

const testing = await importOptionalPackage('@prompt2model/testing', () => import('@prompt2model/testing'), 'use prompt2model/testing (mock models and loopback servers for tests)');

export const {
  LOOPBACK_JOB_HARDWARE,
  MockLanguageModel,
  SENTIMENT_LABELS,
  buildTinyCausalLM,
  buildTinyEncoder,
  buildTinySeq2Seq,
  createHubJobs,
  dateNormalisationSpec,
  encodeModel,
  floatTensor,
  hubListingPage,
  hubResponder,
  int64Tensor,
  isConsistentlyWrong,
  lastKeywordSentiment,
  lastUserText,
  listenOnLoopback,
  messageText,
  node,
  noisyDateTeacher,
  readRequestBody,
  sampleCascadeCalibration,
  sendFileBytes,
  startDatasetsServer,
  startDeepLServer,
  startHubServer,
  startOpenAIBatchServer,
  startOpenAICompatibleServer,
  startOpenAIFineTuningServer,
  trueIsoDate,
  validateChatFile,
  valueInfo,
  wordPieceTokenizerFiles,
  wordsOf,
} = testing;
