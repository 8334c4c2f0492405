#!/usr/bin/env python3
# Checks a Relais journal export by hand, with the Python standard library and openssl only:
#   python3 journal-check.py EXPORT.json [JWKS.json]
# See docs/journal.md. It is a second, independent reading of the format, not the reference.
import base64, hashlib, json, struct, sys
from datetime import datetime

x = json.load(open(sys.argv[1]))
def s(v): b = v.encode(); return struct.pack('>I', len(b)) + b
def ms(t): return round(datetime.fromisoformat(t.replace('Z', '+00:00')).timestamp() * 1000)

prev = bytes(32)
for i, e in enumerate(x['entries'], 1):
    assert e['seq'] == i, f'entry {i} missing'
    if 'erased_at' not in e:   # the detail is there: check its hash
        d = e.get('detail', {}); salt = bytes.fromhex(e['salt'])
        enc = b'RJD1' + struct.pack('>I', len(salt)) + salt
        enc += struct.pack('>I', len(d)) + b''.join(s(k) + s(d[k]) for k in sorted(d, key=lambda k: k.encode()))
        assert hashlib.sha256(enc).hexdigest() == e['detail_hash'], f'entry {i}: detail edited'
    enc = (b'RJE1' + s(e['chain']) + struct.pack('>Q', e['seq']) + s(e['type']) + struct.pack('>q', ms(e['at']))
           + b''.join(s(e.get(f, '')) for f in ['actor_id', 'organisation_id', 'person_id', 'representation_id', 'client_id'])
           + struct.pack('>I', len(e.get('areas', []))) + b''.join(s(a) for a in e.get('areas', []))
           + bytes.fromhex(e['detail_hash']) + bytes.fromhex(e['prev_hash']))
    assert bytes.fromhex(e['prev_hash']) == prev, f'entry {i}: not linked to entry {i-1}'
    assert hashlib.sha256(enc).hexdigest() == e['hash'], f'entry {i}: edited'
    prev = bytes.fromhex(e['hash'])

cp = x['checkpoint']; h = cp['head']
assert x['entries'][h['seq'] - 1]['hash'] == h['hash'], 'the signed head is not in the chain'
leaf = b'RJH1' + s(h['chain']) + struct.pack('>Q', h['seq']) + bytes.fromhex(h['hash'])
r = hashlib.sha256(b'\x00' + leaf).digest()
fn, sn = cp['leaf_index'], cp['tree_size'] - 1          # RFC 9162 §2.1.3.2
for p in map(bytes.fromhex, cp['path']):
    if fn & 1 or fn == sn:
        r = hashlib.sha256(b'\x01' + p + r).digest()
        while not fn & 1 and fn: fn >>= 1; sn >>= 1
    else:
        r = hashlib.sha256(b'\x01' + r + p).digest()
    fn >>= 1; sn >>= 1
payload = json.loads(base64.urlsafe_b64decode(cp['jws'].split('.')[1] + '=='))
assert sn == 0 and r.hex() == payload['root'], 'the proof does not lead to the signed root'
print(f"chain {x['chain']}: {len(x['entries'])} entries linked; entry {h['seq']} is in checkpoint {payload['number']} "
      f"(root {payload['root']}); now check the JWS signature with the issuer's /jwks")

# The signature (ES256, RFC 7518 §3.4) with openssl: the journal key from the saved /jwks as PEM,
# the JWS's r||s as DER, and the signed text header.payload.
if len(sys.argv) > 2:
    b64 = lambda v: base64.urlsafe_b64decode(v + '=' * (-len(v) % 4))
    head64, pay64, sig64 = cp['jws'].split('.')
    kid = json.loads(b64(head64))['kid']
    k = next(k for k in json.load(open(sys.argv[2]))['keys'] if k['kid'] == kid and kid.startswith('journal-'))
    spki = bytes.fromhex('3059301306072a8648ce3d020106082a8648ce3d030107034200') + b'\x04' + b64(k['x']) + b64(k['y'])
    open('journal-key.pem', 'w').write('-----BEGIN PUBLIC KEY-----\n' + base64.b64encode(spki).decode() + '\n-----END PUBLIC KEY-----\n')
    def der_int(b): b = b.lstrip(b'\x00'); b = b'\x00' + b if b[0] & 0x80 else b; return b'\x02' + bytes([len(b)]) + b
    sig = b64(sig64); body = der_int(sig[:32]) + der_int(sig[32:])
    open('signature.der', 'wb').write(b'\x30' + bytes([len(body)]) + body)
    open('signed.txt', 'w').write(head64 + '.' + pay64)
    print('run: openssl dgst -sha256 -verify journal-key.pem -signature signature.der signed.txt')
