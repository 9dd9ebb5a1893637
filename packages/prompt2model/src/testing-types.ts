// The declarations of `prompt2model/testing` (tsup's dts entry for `testing`): every type and value
// of @prompt2model/testing. The runtime entry is testing.ts, which loads the package on import.
export * from '@prompt2model/testing';
