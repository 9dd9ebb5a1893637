/**
 * Wire shapes: what the Hub's `/api/models` answers carry in the fields this client asks for
 * (`additionalFields`), and what the disk cache stores. Kept apart from the public types so a
 * change on the Hub's side touches one file.
 */

/** `config` of a model listing: the `config.json` fields the Hub echoes. */
export interface ApiModelConfig {
  architectures?: string[];
  model_type?: string;
  is_encoder_decoder?: boolean;
  [key: string]: unknown;
}

/** `safetensors` of a model listing: parameter counts per dtype, and their total. */
export interface ApiSafetensorsInfo {
  parameters?: Record<string, number>;
  total?: number;
}

/** `cardData` of a model listing: the card's YAML front matter, as the Hub parsed it. */
export interface ApiCardData {
  license?: unknown;
  [key: string]: unknown;
}

/** One listed model, as the cache stores it (JSON-safe: dates as ISO strings). */
export interface ApiListedModel {
  id: string;
  downloads: number;
  task?: string;
  lastModified: string | null;
  tags?: string[];
  config?: ApiModelConfig;
  cardData?: ApiCardData;
  safetensors?: ApiSafetensorsInfo;
}

/** A cached listing file (`listings/<hash>.json`). */
export interface CachedListing {
  fetchedAt: number;
  models: ApiListedModel[];
}
