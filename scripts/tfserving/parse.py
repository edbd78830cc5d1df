"""Parse a TF Serving config file with TF Serving's compiled protos and print it as JSON.

Usage (with the venv's python, see setup.sh):
    python parse.py MESSAGE FILE

MESSAGE is ModelServerConfig (models.config), BatchingParameters (batching.config) or
MonitoringConfig (monitoring.config), short or full (tensorflow.serving.X). The file is parsed
with google.protobuf.text_format.Parse, as tensorflow_model_server reads it, into the real message
class and printed on stdout as the message's proto3 JSON (MessageToDict, proto field names).
Exit 1 with the parser's message on stderr when the file does not parse; 2 on a usage error.

ModelServerConfig comes from tensorflow-serving-api (imported as usual). BatchingParameters and
MonitoringConfig are in no PyPI release of tensorflow-serving-api: their FileDescriptorProtos are
read from the pinned min-tfs-client wheel that setup.sh downloads into <venv>/descriptors (never
installed nor imported: only the serialized descriptors embedded in its *_pb2.py files are used,
loaded into a private descriptor pool). See README.md.
"""

import ast
import glob
import json
import os
import sys
import zipfile

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory, text_format
from google.protobuf import wrappers_pb2

MESSAGES = {
    'ModelServerConfig': None,  # from tensorflow-serving-api
    'BatchingParameters': 'tensorflow_serving/servables/tensorflow/session_bundle_config.proto',
    'MonitoringConfig': 'tensorflow_serving/config/monitoring_config.proto',
}
WELL_KNOWN = {wrappers_pb2.DESCRIPTOR.name: wrappers_pb2.DESCRIPTOR}


def descriptors_wheel():
    wheels = glob.glob(os.path.join(sys.prefix, 'descriptors', 'min_tfs_client-*.whl'))
    if len(wheels) != 1:
        raise SystemExit(f'parse.py: expected one min_tfs_client wheel in {sys.prefix}/descriptors, found {wheels}: run setup.sh')
    return wheels[0]


def serialized_descriptor(source, where):
    """The bytes of `DESCRIPTOR = _descriptor.FileDescriptor(..., serialized_pb=_b('...'))`, read with ast (nothing is run)."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == 'DESCRIPTOR' for t in node.targets):
            for kw in node.value.keywords:
                if kw.arg == 'serialized_pb':
                    arg = kw.value.args[0] if isinstance(kw.value, ast.Call) else kw.value
                    value = ast.literal_eval(arg)
                    return value.encode('latin1') if isinstance(value, str) else value
    raise SystemExit(f'parse.py: no serialized_pb in {where}')


def add_file(pool, wheel, name, added):
    """Add the .proto `name` and, first, everything it imports to `pool`."""
    if name in added:
        return
    if name in WELL_KNOWN:
        proto = descriptor_pb2.FileDescriptorProto()
        WELL_KNOWN[name].CopyToProto(proto)
    else:
        module = name[: -len('.proto')] + '_pb2.py'
        proto = descriptor_pb2.FileDescriptorProto.FromString(serialized_descriptor(wheel.read(module).decode('utf-8'), module))
    for dep in proto.dependency:
        add_file(pool, wheel, dep, added)
    pool.Add(proto)
    added.add(name)


def message_class(short):
    if short == 'ModelServerConfig':
        from tensorflow_serving.config import model_server_config_pb2

        return model_server_config_pb2.ModelServerConfig
    pool = descriptor_pool.DescriptorPool()
    with zipfile.ZipFile(descriptors_wheel()) as wheel:
        add_file(pool, wheel, MESSAGES[short], set())
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f'tensorflow.serving.{short}'))


def main(argv):
    if len(argv) != 3:
        print(f'usage: {argv[0]} {"|".join(MESSAGES)} FILE', file=sys.stderr)
        return 2
    short = argv[1].removeprefix('tensorflow.serving.')
    if short not in MESSAGES:
        print(f'parse.py: unknown message {argv[1]}; one of {", ".join(MESSAGES)}', file=sys.stderr)
        return 2
    try:
        with open(argv[2], encoding='utf-8') as f:
            text = f.read()
    except OSError as e:
        print(f'parse.py: {e}', file=sys.stderr)
        return 2
    msg = message_class(short)()
    try:
        text_format.Parse(text, msg)
    except text_format.ParseError as e:
        print(f'{argv[2]}: {msg.DESCRIPTOR.full_name}: {e}', file=sys.stderr)
        return 1
    print(json.dumps(json_format.MessageToDict(msg, preserving_proto_field_name=True), sort_keys=True))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
