import { createHubCaller, type HubCaller } from './create-hub-caller.js';
import type { ApiListedModel } from './types/api.js';
import type { HubModelSummary, ListHubModelsOptions } from './types/public.js';
import { safetensorsBytes, safetensorsParameterCount } from './weights-size.js';

/**
 * Models of one pipeline tag, most downloaded first, through @huggingface/hub's `listModels`
 * (which follows the Link-header pagination), with the fields that tell architecture and size.
 */
export async function listHubModels(options: ListHubModelsOptions & { caller?: HubCaller } = {}): Promise<HubModelSummary[]> {
  const caller = options.caller ?? (await createHubCaller(options));
  const rows = await listModelsRaw(caller, options.task, options.limit ?? 1000);
  return rows.map(toModelSummary);
}

/** The listing in its wire shape (what the disk cache stores). */
export async function listModelsRaw(caller: HubCaller, task: string | undefined, limit: number): Promise<ApiListedModel[]> {
  return caller.call(`list ${task ?? 'all'} models`, async (common) => {
    const rows: ApiListedModel[] = [];
    for await (const model of caller.hub.listModels({
      ...common,
      ...(task ? { search: { task: task as never } } : {}),
      sort: 'downloads',
      limit,
      additionalFields: ['cardData', 'config', 'safetensors', 'tags'],
    })) {
      rows.push({
        id: model.name,
        downloads: model.downloads ?? 0,
        ...(model.task ? { task: model.task } : {}),
        lastModified: Number.isNaN(model.updatedAt.getTime()) ? null : model.updatedAt.toISOString(),
        ...(model.tags ? { tags: model.tags } : {}),
        ...(model.config ? { config: model.config as ApiListedModel['config'] } : {}),
        ...(model.cardData ? { cardData: model.cardData as ApiListedModel['cardData'] } : {}),
        ...(model.safetensors ? { safetensors: model.safetensors } : {}),
      });
    }
    return rows;
  });
}

/** Wire row → public summary (license normalised, sizes from the safetensors metadata). */
export function toModelSummary(model: ApiListedModel): HubModelSummary {
  const license = normaliseLicense(model.cardData?.license);
  const parameters = safetensorsParameterCount(model.safetensors);
  const sizeBytes = safetensorsBytes(model.safetensors);
  const config = model.config
    ? {
        ...(model.config.architectures ? { architectures: model.config.architectures } : {}),
        ...(model.config.model_type ? { model_type: model.config.model_type } : {}),
        ...(model.config.is_encoder_decoder !== undefined ? { is_encoder_decoder: model.config.is_encoder_decoder } : {}),
      }
    : undefined;
  return {
    id: model.id,
    downloads: model.downloads,
    ...(model.task ? { pipelineTag: model.task } : {}),
    ...(model.lastModified ? { lastModified: model.lastModified } : {}),
    ...(model.tags ? { tags: model.tags } : {}),
    ...(config ? { config } : {}),
    ...(license ? { license } : {}),
    ...(parameters !== undefined ? { parameters } : {}),
    ...(sizeBytes !== undefined ? { sizeBytes } : {}),
  };
}

function normaliseLicense(value: unknown): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' && first.trim() !== '' ? first.trim().toLowerCase() : undefined;
}
