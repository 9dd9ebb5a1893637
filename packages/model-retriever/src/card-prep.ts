import type { ModelArchitecture } from '@prompt2model/core/internal';
import { cardSearchText, detectArchitecture, detectLicense, type ModelConfigHints } from './model-card.js';

/** What preparing a card reads of its record (plain data: it may cross to a worker thread). */
export interface CardToPrepare {
  id: string;
  card: string;
  license?: string | null;
  architecture?: ModelArchitecture | null;
  config?: ModelConfigHints | null;
  pipelineTag?: string | null;
  tags?: string[] | null;
}

/** A card made ready to index: the text BM25 tokenises, the architecture and license the filters read. */
export interface PreparedCard {
  text: string;
  architecture: ModelArchitecture;
  license?: string;
}

/** Cleans a card and detects its architecture and license (the bulk of building an index). */
export function prepareCard(record: CardToPrepare): PreparedCard {
  const license = record.license?.toLowerCase() ?? detectLicense(record.card);
  const architecture =
    record.architecture ??
    detectArchitecture({
      id: record.id,
      card: record.card,
      ...(record.config ? { config: record.config } : {}),
      ...(record.pipelineTag ? { pipelineTag: record.pipelineTag } : {}),
      ...(record.tags ? { tags: record.tags } : {}),
    });
  const prepared: PreparedCard = { text: cardSearchText(record.id, record.card), architecture };
  if (license) prepared.license = license;
  return prepared;
}

export function prepareCards(records: CardToPrepare[]): PreparedCard[] {
  return records.map(prepareCard);
}
