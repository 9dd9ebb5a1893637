import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelArchitecture } from '@prompt2model/core/internal';

/**
 * Model families we know by name. Order matters: the first pattern that matches the model id wins,
 * so more specific names (`codet5`, `flan-t5`) come before generic ones (`t5`, `gpt`).
 */
const FAMILIES: Array<{ pattern: RegExp; family: ModelFamily }> = [
  { pattern: /(^|[/_-])(flan-)?(m|u|long|code|by)?t5|t0(pp|_3b|\b)|ul2|mt0/i, family: 't5' },
  { pattern: /bart|pegasus|marian|opus-mt|m2m|nllb|\bled\b|blenderbot|prophetnet/i, family: 'bart' },
  { pattern: /(^|\/)opt-\d/i, family: 'opt' },
  { pattern: /gpt-?neox|pythia|dolly|falcon|bloom|stablelm-base-alpha/i, family: 'neox' },
  { pattern: /gpt-?2|distilgpt|codegen|santacoder|gpt-?j|gpt-?neo\b|starcoder/i, family: 'gpt2' },
  { pattern: /phi-?3|phi-?4/i, family: 'phi3' },
  { pattern: /llama|mistral|mixtral|qwen|gemma|smollm|tinyllama|olmo|deepseek|yi-|internlm|phi/i, family: 'llama' },
];

export type ModelFamily = 't5' | 'bart' | 'opt' | 'gpt2' | 'neox' | 'phi3' | 'llama';

/** LoRA target modules of each family: the attention projections (query, key, value, output). */
export const DEFAULT_LORA_TARGET_MODULES: Record<ModelFamily, string[]> = {
  t5: ['q', 'k', 'v', 'o'],
  bart: ['q_proj', 'k_proj', 'v_proj', 'out_proj'],
  opt: ['q_proj', 'k_proj', 'v_proj', 'out_proj'],
  gpt2: ['c_attn', 'attn.c_proj'],
  neox: ['query_key_value', 'dense'],
  phi3: ['qkv_proj', 'o_proj'],
  llama: ['q_proj', 'k_proj', 'v_proj', 'o_proj'],
};

const ENCODER_DECODER_FAMILIES = new Set<ModelFamily>(['t5', 'bart']);

/** Hugging Face `model_type` values (config.json) that map to a family. */
const MODEL_TYPE_FAMILY: Record<string, ModelFamily> = {
  t5: 't5',
  mt5: 't5',
  umt5: 't5',
  longt5: 't5',
  bart: 'bart',
  mbart: 'bart',
  pegasus: 'bart',
  marian: 'bart',
  m2m_100: 'bart',
  led: 'bart',
  blenderbot: 'bart',
  opt: 'opt',
  gpt2: 'gpt2',
  codegen: 'gpt2',
  gptj: 'gpt2',
  gpt_neo: 'gpt2',
  gpt_bigcode: 'gpt2',
  gpt_neox: 'neox',
  falcon: 'neox',
  bloom: 'neox',
  phi3: 'phi3',
  llama: 'llama',
  mistral: 'llama',
  mixtral: 'llama',
  qwen2: 'llama',
  qwen3: 'llama',
  gemma: 'llama',
  gemma2: 'llama',
  olmo: 'llama',
  phi: 'llama',
};

export interface ModelInfo {
  family: ModelFamily | undefined;
  architecture: ModelArchitecture;
  /** `model_type` from a local config.json, when the base model is a folder. */
  modelType?: string;
}

/**
 * What we can tell about a base model before training: its family (for LoRA target modules) and
 * whether it is encoder-decoder (which decides the textualisation). A local folder's config.json
 * is authoritative; otherwise the Hub id is matched against known family names.
 */
export function describeBaseModel(baseModel: string, declared: ModelArchitecture = 'unknown'): ModelInfo {
  const configPath = join(baseModel, 'config.json');
  if (existsSync(configPath)) {
    try {
      const config = JSON.parse(readFileSync(configPath, 'utf8')) as { model_type?: string; is_encoder_decoder?: boolean };
      const family = config.model_type ? MODEL_TYPE_FAMILY[config.model_type] : undefined;
      const architecture: ModelArchitecture =
        config.is_encoder_decoder === true || (family !== undefined && ENCODER_DECODER_FAMILIES.has(family))
          ? 'encoder-decoder'
          : config.model_type
            ? 'decoder-only'
            : declared;
      return { family, architecture, ...(config.model_type ? { modelType: config.model_type } : {}) };
    } catch {
      // An unreadable config falls back to the name heuristics below.
    }
  }
  const family = FAMILIES.find((entry) => entry.pattern.test(baseModel))?.family;
  let architecture = declared;
  if (architecture === 'unknown' && family) {
    architecture = ENCODER_DECODER_FAMILIES.has(family) ? 'encoder-decoder' : 'decoder-only';
  }
  return { family, architecture };
}

/**
 * Default LoRA target modules for a base model; undefined when the family is unknown, in which case
 * the worker picks them from the loaded model's module names.
 */
export function defaultLoraTargetModules(baseModel: string, declared: ModelArchitecture = 'unknown'): string[] | undefined {
  const { family } = describeBaseModel(baseModel, declared);
  return family ? [...DEFAULT_LORA_TARGET_MODULES[family]] : undefined;
}
