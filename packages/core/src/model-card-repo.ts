/**
 * What a model card (README.md) writes where the Hub repo id belongs (its usage snippet), before the
 * model has a repo: `push` replaces it with the repo it creates, so the snippet runs as written
 * against that repo. The card writer (trainer) and the uploader (huggingface) both use it.
 */
export const MODEL_CARD_REPO_PLACEHOLDER = 'OWNER/NAME';
