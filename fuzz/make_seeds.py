"""Seed corpus for the libFuzzer targets, made at run time (nothing binary is committed): torch.save files of small
state dicts (several dtypes, a wrapped checkpoint, tensors sharing a storage, a view with an offset), safetensors files
and their JSON headers, the pickles inside the .pt files, sealed checkpoints, and tensor records for the bounds check.
Usage: python3 fuzz/make_seeds.py OUT_DIR [EXTRA_FILE ...]. Without torch, the zip and pickle seeds come from Python's
own pickle and zipfile modules instead."""
import io
import json
import os
import pickle
import struct
import sys
import zipfile
import zlib
from collections import OrderedDict

out = sys.argv[1]
extra = sys.argv[2:]
targets = ['zip', 'pickle', 'json', 'safetensors', 'bounds', 'pt', 'sealed']
for t in targets:
    os.makedirs(os.path.join(out, t), exist_ok=True)


def put(target, name, data):
    with open(os.path.join(out, target, name), 'wb') as f:
        f.write(data)


def safetensors(tensors):
    """tensors: list of (name, dtype, shape, bytes) -> a safetensors file."""
    header, offset = {'__metadata__': {'format': 'pt'}}, 0
    for name, dtype, shape, data in tensors:
        header[name] = {'dtype': dtype, 'shape': shape, 'data_offsets': [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    return struct.pack('<Q', len(text)) + text + b''.join(t[3] for t in tensors), text


def seal(archive):
    return archive + b'TNCKPT\x01\n' + struct.pack('<Q', len(archive)) + struct.pack('<I', zlib.crc32(archive))


zips = []
try:
    import torch

    base = torch.arange(24, dtype=torch.float32)
    dicts = {
        'floats': OrderedDict([('w', torch.randn(3, 2)), ('b', torch.zeros(3))]),
        'dtypes': OrderedDict((str(d).split('.')[-1], torch.ones(2, 2, dtype=d)) for d in
                              [torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.int16,
                               torch.int8, torch.uint8, torch.bool]),
        'shared': OrderedDict([('a', base.view(4, 6)), ('b', base[6:12]), ('t', base.view(6, 4).t())]),
        'scalar': OrderedDict([('s', torch.tensor(3.5)), ('empty', torch.zeros(0, 4))]),
        'wrapped': {'state_dict': OrderedDict([('w', torch.randn(2))]), 'epoch': 3},
    }
    for name, sd in dicts.items():
        buf = io.BytesIO()
        torch.save(sd, buf)
        zips.append((name, buf.getvalue()))
except ImportError:
    for name, obj in {'plain': OrderedDict([('w', [1.0, 2.0])]), 'nested': {'a': [1, (2, 3)], 'b': None}}.items():
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, 'w', zipfile.ZIP_STORED) as z:
            z.writestr('archive/data.pkl', pickle.dumps(obj, protocol=2))
            z.writestr('archive/byteorder', 'little')
        zips.append((name, buf.getvalue()))

for name, data in zips:
    for target in ('zip', 'pt'):
        put(target, name + '.pt', data)
    put('sealed', name + '.ckpt', seal(data))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for entry in z.namelist():
            if entry.endswith('data.pkl'):
                put('pickle', name + '.pkl', z.read(entry))

for name, tensors in {
    'one': [('w', 'F32', [2, 2], struct.pack('<4f', 1, 2, 3, 4))],
    'mixed': [('a', 'I64', [2], struct.pack('<2q', -1, 7)), ('b', 'U8', [3], b'abc'), ('c', 'BF16', [], b'\x80\x3f'),
              ('e', 'F16', [0, 3], b'')],
    'escapes': [('k\\u00e9y "q"', 'BOOL', [1], b'\x01')],
}.items():
    data, header = safetensors(tensors)
    put('safetensors', name + '.safetensors', data)
    put('json', name + '.json', header)
put('json', 'values.json', b'{"a":[1,-2.5e3,true,false,null,"x\\n\\u0041"],"b":{}}')

# Tensor records for fuzz/bounds.cc: byte 0 element size (1 << (b & 3)), byte 1 dimensions, then int64 offset,
# sizes, strides and the storage's bytes.
def record(log2size, offset, sizes, strides, storage):
    return bytes([log2size, len(sizes)]) + struct.pack('<q', offset) + struct.pack(f'<{len(sizes)}q', *sizes) + \
        struct.pack(f'<{len(strides)}q', *strides) + struct.pack('<q', storage)

put('bounds', 'contiguous', record(2, 0, [3, 4], [4, 1], 48))
put('bounds', 'view', record(3, 6, [2, 3], [1, 2], 96))
put('bounds', 'stride0', record(2, 0, [1 << 30], [0], 4))
put('bounds', 'huge', record(2, 1 << 62, [2], [1 << 62], 8))

for path in extra:
    with open(path, 'rb') as f:
        data = f.read()
    if data[:4] == b'PK\x03\x04':
        put('zip', os.path.basename(path), data)
        put('pt', os.path.basename(path), data)
    elif len(data) > 8:
        put('safetensors', os.path.basename(path), data)
