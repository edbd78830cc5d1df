/**
 * Protobuf text format, the syntax TF Serving reads its model, batching and monitoring config in.
 * A message is a list of fields; a field's value is a scalar or a nested message.
 */
export type TextProtoValue = string | number | boolean | TextProtoMessage;
export type TextProtoMessage = Array<[string, TextProtoValue]>;

export function renderTextProto(msg: TextProtoMessage, indent = ''): string {
  return msg
    .map(([key, value]) => {
      if (Array.isArray(value)) {
        return `${indent}${key} {\n${renderTextProto(value, `${indent}  `)}${indent}}\n`;
      }
      return `${indent}${key}: ${scalar(value)}\n`;
    })
    .join('');
}

function scalar(v: string | number | boolean): string {
  if (typeof v === 'string') return JSON.stringify(v); // JSON string escapes are valid text-format escapes for ASCII
  return String(v);
}
