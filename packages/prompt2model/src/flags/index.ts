// Flag groups shared by several verbs, so a verb never imports another verb.
export { addTrainingOptions, createTrainingBackend, predictSettings, threadsEnv, threadsOption, trainingBackendSettings, trainingSettings, commandFromSetting, type TrainingFlags } from './training.js';
export { addHubOptions, hubOptionsFrom, type HubCliOptions } from './hub.js';
export { readInputText, readPromptFile } from './input.js';
export { splitList } from './lists.js';
export { addDatasetHubOptions, retrieverConfig, type DatasetHubFlags } from './datasets.js';
export { addLabelVoteOptions, labelVoteSettings, type LabelVoteFlags } from './label-votes.js';
export { addServerOptions, serverSettings, servedFormat, warnWithoutInstruction, weightsNote, type ServerFlags } from './server.js';
