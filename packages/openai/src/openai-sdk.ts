import type OpenAI from 'openai';

/**
 * The `openai` SDK, loaded on first use: importing this package (or the umbrella) stays fast, and
 * only a process that calls an OpenAI endpoint pays for loading the SDK.
 */
let loaded: typeof import('openai') | undefined;

export async function loadOpenAISdk(): Promise<typeof import('openai')> {
  loaded ??= await import('openai');
  return loaded;
}

// Before the SDK is loaded no error can come from it, so `instanceof` checks see classes nothing is an instance of.
class NotLoaded {}
const notLoaded = { APIError: NotLoaded, APIConnectionError: NotLoaded, APIConnectionTimeoutError: NotLoaded, APIUserAbortError: NotLoaded } as unknown as typeof OpenAI;

/** The loaded SDK's classes for `instanceof` checks (never matching before the SDK is loaded). */
export function openAISdkClasses(): typeof OpenAI {
  return loaded?.default ?? notLoaded;
}
