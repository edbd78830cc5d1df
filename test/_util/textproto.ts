/**
 * A small parser of protobuf text format, checked against the message types TF Serving reads
 * (ModelServerConfig, BatchingParameters, MonitoringConfig), so tests can tell that generated config
 * files are valid and say what we meant. Independent of the renderer in lib/.
 */
type FieldType = 'string' | 'int' | 'bool' | { message: string };
interface FieldDef {
  type: FieldType;
  repeated?: boolean;
}
const WRAPPED_INT: Record<string, FieldDef> = { value: { type: 'int' } };
const TYPES: Record<string, Record<string, FieldDef>> = {
  ModelServerConfig: { model_config_list: { type: { message: 'ModelConfigList' } } },
  ModelConfigList: { config: { type: { message: 'ModelConfig' }, repeated: true } },
  ModelConfig: {
    name: { type: 'string' },
    base_path: { type: 'string' },
    model_platform: { type: 'string' },
    model_version_policy: { type: { message: 'ServableVersionPolicy' } },
    version_labels: { type: { message: 'VersionLabel' }, repeated: true },
  },
  VersionLabel: { key: { type: 'string' }, value: { type: 'int' } },
  ServableVersionPolicy: { latest: { type: { message: 'Latest' } }, all: { type: { message: 'All' } }, specific: { type: { message: 'Specific' } } },
  Latest: { num_versions: { type: 'int' } },
  All: {},
  Specific: { versions: { type: 'int', repeated: true } },
  BatchingParameters: {
    max_batch_size: { type: { message: 'Int64Value' } },
    batch_timeout_micros: { type: { message: 'Int64Value' } },
    max_enqueued_batches: { type: { message: 'Int64Value' } },
    num_batch_threads: { type: { message: 'Int64Value' } },
    allowed_batch_sizes: { type: 'int', repeated: true },
    pad_variable_length_inputs: { type: 'bool' },
  },
  Int64Value: WRAPPED_INT,
  MonitoringConfig: { prometheus_config: { type: { message: 'PrometheusConfig' } } },
  PrometheusConfig: { enable: { type: 'bool' }, path: { type: 'string' } },
};

export type Parsed = { [field: string]: Array<string | number | boolean | Parsed> };

/** Parse `text` as message type `type`; throws on a syntax error, unknown field or wrong type. */
export function parseTextProto(text: string, type: string): Parsed {
  const tokens = tokenize(text);
  let i = 0;
  const parseMessage = (t: string, closing: boolean): Parsed => {
    const def = TYPES[t];
    if (!def) throw new Error(`unknown message type ${t}`);
    const out: Parsed = {};
    while (i < tokens.length && tokens[i] !== '}') {
      const name = tokens[i++];
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`expected a field name in ${t}, got ${name}`);
      const f = def[name];
      if (!f) throw new Error(`${t} has no field ${name}`);
      let value: string | number | boolean | Parsed;
      if (typeof f.type === 'object') {
        if (tokens[i] === ':') i++;
        if (tokens[i++] !== '{') throw new Error(`expected { after ${name}`);
        value = parseMessage(f.type.message, true);
      } else {
        if (tokens[i++] !== ':') throw new Error(`expected : after ${name}`);
        const tok = tokens[i++];
        if (f.type === 'string') {
          if (!/^".*"$/s.test(tok)) throw new Error(`${t}.${name} must be a quoted string, got ${tok}`);
          value = JSON.parse(tok);
        } else if (f.type === 'int') {
          if (!/^-?\d+$/.test(tok)) throw new Error(`${t}.${name} must be an integer, got ${tok}`);
          value = Number(tok);
        } else {
          if (tok !== 'true' && tok !== 'false') throw new Error(`${t}.${name} must be true or false, got ${tok}`);
          value = tok === 'true';
        }
      }
      if (out[name] && !f.repeated) throw new Error(`${t}.${name} is not repeated but given twice`);
      (out[name] ??= []).push(value);
    }
    if (closing) {
      if (tokens[i++] !== '}') throw new Error(`unclosed ${t}`);
    } else if (i < tokens.length) {
      throw new Error(`unexpected ${tokens[i]}`);
    }
    return out;
  };
  return parseMessage(type, false);
}

function tokenize(text: string): string[] {
  const re = /\s+|#[^\n]*|("(?:[^"\\\n]|\\.)*")|([{}:])|([A-Za-z0-9_.+-]+)|(.)/gy;
  const out: string[] = [];
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    if (m[4] !== undefined) throw new Error(`unexpected character ${m[4]}`);
    const tok = m[1] ?? m[2] ?? m[3];
    if (tok !== undefined) out.push(tok);
    if (re.lastIndex >= text.length) break;
  }
  return out;
}
