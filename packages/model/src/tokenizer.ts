// Tokenizer (tokenizer.json via @huggingface/tokenizers) and chat template
// (tokenizer_config.json or chat_template.jinja via @huggingface/jinja).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Template } from "@huggingface/jinja";
import { Tokenizer } from "@huggingface/tokenizers";
import { renderBounded } from "./chatTemplate.js";
import { ModelError, ModelFileError, PromptTooLongError } from "./errors.js";
import { fileExists, readJsonFile } from "./files.js";
import { readGenerationConfig } from "./generation.js";

export const TOKENIZER_FILE = "tokenizer.json";
export const TOKENIZER_CONFIG_FILE = "tokenizer_config.json";
export const CHAT_TEMPLATE_FILE = "chat_template.jinja";

export interface ChatMessage {
  role: string;
  content: string;
  [key: string]: unknown;
}

export interface SpecialTokens {
  bos: string | null;
  eos: string | null;
  pad: string | null;
  unk: string | null;
}

export interface ChatTemplateOptions {
  /** Append the assistant turn header so the model continues as the assistant. */
  addGenerationPrompt?: boolean;
  /** Extra template variables (e.g. tools, enable_thinking). */
  extra?: Record<string, unknown>;
}

export interface TokenizerOptions {
  /** Chat template overriding the one in the files. */
  chatTemplate?: string;
  /** Ids that also end generation (e.g. generation_config.json eos_token_id). */
  extraEosTokenIds?: readonly number[];
  /** Name used in error messages. */
  source?: string;
  /** Where the chat template came from, for error messages (default: tokenizer_config.json, or "the chatTemplate option"). */
  chatTemplateSource?: string;
  /** Default maxLength of encodeChat (e.g. config.json max_position_embeddings). */
  contextLength?: number;
}

/** A special-token entry is either a string or an AddedToken object with "content". */
function tokenString(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (typeof v === "object" && v !== null && typeof (v as { content?: unknown }).content === "string") {
    return (v as { content: string }).content;
  }
  return null;
}

/**
 * Tokenizer models rlvr loads: the supported architectures (Qwen2, Llama) ship byte-level BPE.
 * Others (Unigram, WordPiece) built but failed on first use ("text is not iterable").
 */
export const SUPPORTED_TOKENIZER_MODELS = ["BPE"] as const;

function checkTokenizerModel(json: unknown, source: string): void {
  const model = (json as { model?: unknown } | null)?.model;
  if (typeof model !== "object" || model === null) {
    throw new ModelFileError(source, `field "model" is missing: not a Hugging Face tokenizer.json`);
  }
  const type = (model as { type?: unknown }).type;
  // files from old tokenizers versions omit model.type; a BPE model is recognized by its merges
  const kind = type ?? ("merges" in model ? "BPE" : "(none)");
  if (!(SUPPORTED_TOKENIZER_MODELS as readonly unknown[]).includes(kind)) {
    throw new ModelFileError(
      source,
      `tokenizer model type ${JSON.stringify(kind)} (field "model.type") is not supported; ` +
        `supported: ${SUPPORTED_TOKENIZER_MODELS.join(", ")} (the tokenizers of Qwen2 and Llama models)`,
    );
  }
}

function pickChatTemplate(config: Record<string, unknown>): string | null {
  const t = config.chat_template;
  if (typeof t === "string") return t;
  if (Array.isArray(t)) {
    const named = t as { name?: unknown; template?: unknown }[];
    const def = named.find((x) => x.name === "default") ?? named[0];
    return typeof def?.template === "string" ? def.template : null;
  }
  return null;
}

export class ModelTokenizer {
  readonly specialTokens: SpecialTokens;
  /** Ids that end generation: the tokenizer's eos token plus the extra ids given, deduplicated. */
  readonly eosTokenIds: number[];
  readonly chatTemplate: string | null;
  readonly contextLength: number | undefined;
  /** The file (or option) the chat template came from, named in its errors. */
  readonly chatTemplateSource: string;
  private readonly tokenizer: Tokenizer;
  private compiledTemplate: Template | undefined;

  constructor(
    tokenizerJson: unknown,
    readonly tokenizerConfig: Record<string, unknown>,
    options: TokenizerOptions = {},
  ) {
    const source = options.source ?? TOKENIZER_FILE;
    checkTokenizerModel(tokenizerJson, source);
    try {
      this.tokenizer = new Tokenizer(tokenizerJson as object, tokenizerConfig);
    } catch (e) {
      throw new ModelFileError(source, `cannot build tokenizer: ${(e as Error).message}`);
    }
    this.specialTokens = {
      bos: tokenString(tokenizerConfig.bos_token),
      eos: tokenString(tokenizerConfig.eos_token),
      pad: tokenString(tokenizerConfig.pad_token),
      unk: tokenString(tokenizerConfig.unk_token),
    };
    const eos = this.specialTokens.eos === null ? undefined : this.tokenToId(this.specialTokens.eos);
    const ids = [...(options.extraEosTokenIds ?? []), ...(eos === undefined ? [] : [eos])];
    this.eosTokenIds = [...new Set(ids)];
    this.chatTemplate = options.chatTemplate ?? pickChatTemplate(tokenizerConfig);
    this.chatTemplateSource =
      options.chatTemplateSource ?? (options.chatTemplate !== undefined ? "the chatTemplate option" : TOKENIZER_CONFIG_FILE);
    this.contextLength = options.contextLength;
  }

  /**
   * Loads tokenizer.json, tokenizer_config.json (optional), chat_template.jinja (optional,
   * preferred over tokenizer_config's chat_template) and generation_config.json eos ids.
   */
  static async load(dir: string, options: TokenizerOptions = {}): Promise<ModelTokenizer> {
    const jsonPath = join(dir, TOKENIZER_FILE);
    const tokenizerJson = await readJsonFile(jsonPath);
    const configPath = join(dir, TOKENIZER_CONFIG_FILE);
    const config = (await fileExists(configPath)) ? await readJsonFile(configPath) : {};
    if (typeof config !== "object" || config === null || Array.isArray(config)) {
      throw new ModelFileError(configPath, "must contain a JSON object");
    }
    const templatePath = join(dir, CHAT_TEMPLATE_FILE);
    let chatTemplate = options.chatTemplate;
    let chatTemplateSource = options.chatTemplateSource ?? (chatTemplate === undefined ? configPath : undefined);
    if (chatTemplate === undefined && (await fileExists(templatePath))) {
      chatTemplate = await readFile(templatePath, "utf8");
      chatTemplateSource = templatePath;
    }
    const generation = await readGenerationConfig(dir);
    return new ModelTokenizer(tokenizerJson, config as Record<string, unknown>, {
      ...options,
      ...(chatTemplate === undefined ? {} : { chatTemplate }),
      ...(chatTemplateSource === undefined ? {} : { chatTemplateSource }),
      extraEosTokenIds: [...(generation?.eosTokenIds ?? []), ...(options.extraEosTokenIds ?? [])],
      source: options.source ?? jsonPath,
    });
  }

  /** Number of ids, added tokens included. */
  get vocabSize(): number {
    let max = -1;
    for (const id of this.tokenizer.get_vocab(true).values()) max = Math.max(max, id);
    return max + 1;
  }

  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids;
  }

  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    return this.tokenizer.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false });
  }

  tokenToId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.tokenizer.id_to_token(id);
  }

  isEos(id: number): boolean {
    return this.eosTokenIds.includes(id);
  }

  /** Renders the chat template to a prompt string. */
  applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
    if (this.chatTemplate === null) {
      throw new ModelError(`no chat template: ${TOKENIZER_CONFIG_FILE} has no chat_template and no ${CHAT_TEMPLATE_FILE}`);
    }
    try {
      this.compiledTemplate ??= new Template(this.chatTemplate);
    } catch (e) {
      throw new ModelFileError(this.chatTemplateSource, `chat template does not parse: ${(e as Error).message}; fix the template`);
    }
    try {
      return renderBounded(this.compiledTemplate, {
        bos_token: this.specialTokens.bos ?? "",
        eos_token: this.specialTokens.eos ?? "",
        pad_token: this.specialTokens.pad ?? "",
        unk_token: this.specialTokens.unk ?? "",
        ...options.extra,
        messages,
        add_generation_prompt: options.addGenerationPrompt ?? false,
      });
    } catch (e) {
      throw new ModelFileError(
        this.chatTemplateSource,
        `chat template failed: ${(e as Error).message}; fix or replace the template`,
      );
    }
  }

  /**
   * Renders and tokenizes a chat (special tokens come from the template, none are added),
   * throwing PromptTooLongError when it exceeds `maxLength` (default: the contextLength option).
   */
  encodeChat(messages: readonly ChatMessage[], options: ChatTemplateOptions & { maxLength?: number } = {}): number[] {
    const ids = this.encode(this.applyChatTemplate(messages, options), { addSpecialTokens: false });
    const max = options.maxLength ?? this.contextLength;
    if (max !== undefined) checkPromptLength(ids.length, max);
    return ids;
  }
}

/** Throws PromptTooLongError (naming both numbers) when `length` > `maxLength`. */
export function checkPromptLength(length: number, maxLength: number): void {
  if (length > maxLength) throw new PromptTooLongError(length, maxLength);
}
