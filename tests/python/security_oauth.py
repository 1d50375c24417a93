"""OAUTHBEARER with JWTs signed here (RS256), checked by the agent against a
JWKS file.

usage:
  security_oauth.py - keygen DIR [KID]  writes DIR/key.pem (RSA) and DIR/jwks.json
  security_oauth.py - token DIR KID SUB prints a valid token (aud floe, iss
      https://idp.test, 5 minutes) signed with DIR/key.pem, naming KID
  security_oauth.py BOOTSTRAP run DIR TOPIC
      confluent-kafka with an oauth_cb that signs tokens with DIR/key.pem:
      produce and consume in a group; then a token signed by another key
      and an expired token are refused with an authentication error.
"""

import base64
import json
import sys
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from floe_common import check, check_eq, fail, log

KID = "floe-test-key"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def int_bytes(n):
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def sign(key, claims, kid=KID):
    header = b64url(json.dumps({"alg": "RS256", "typ": "JWT", "kid": kid}).encode())
    body = b64url(json.dumps(claims).encode())
    signed = f"{header}.{body}".encode()
    sig = key.sign(signed, padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{body}.{b64url(sig)}"


def keygen(out, kid=KID):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with open(f"{out}/key.pem", "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    numbers = key.public_key().public_numbers()
    jwks = {"keys": [{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                      "n": b64url(int_bytes(numbers.n)), "e": b64url(int_bytes(numbers.e))}]}
    with open(f"{out}/jwks.json", "w") as f:
        json.dump(jwks, f)


def token(folder, kid, sub):
    with open(f"{folder}/key.pem", "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    now = int(time.time())
    claims = {"sub": sub, "aud": "floe", "iss": "https://idp.test", "iat": now, "exp": now + 300}
    print(sign(key, claims, kid))


def conf(bootstrap, token_for):
    def oauth_cb(_config):
        token, expiry = token_for()
        return token, expiry
    return {"bootstrap.servers": bootstrap, "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "OAUTHBEARER", "oauth_cb": oauth_cb}


def run(bootstrap, folder, topic):
    from confluent_kafka import Consumer, KafkaError, Producer

    with open(f"{folder}/key.pem", "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)

    def good():
        now = time.time()
        claims = {"sub": "svc-orders", "aud": "floe", "iss": "https://idp.test",
                  "iat": int(now), "exp": int(now) + 300}
        return sign(key, claims), now + 300

    producer = Producer(conf(bootstrap, good))
    for i in range(20):
        producer.produce(topic, value=f"v{i}".encode())
    check_eq(producer.flush(60), 0, "records left unflushed")
    consumer = Consumer({**conf(bootstrap, good), "group.id": f"{topic}-g",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    seen = set()
    deadline = time.time() + 60
    while len(seen) < 20 and time.time() < deadline:
        msg = consumer.poll(0.5)
        if msg is not None and not msg.error():
            seen.add(msg.value().decode())
    consumer.close()
    check_eq(seen, {f"v{i}" for i in range(20)}, "values consumed")

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    bad_tokens = {
        "another key": lambda: (sign(other, {"sub": "x", "aud": "floe", "iss": "https://idp.test",
                                             "exp": int(time.time()) + 300}), time.time() + 300),
        "expired": lambda: (sign(key, {"sub": "x", "aud": "floe", "iss": "https://idp.test",
                                       "exp": int(time.time()) - 10}), time.time() + 300),
        "wrong audience": lambda: (sign(key, {"sub": "x", "aud": "other", "iss": "https://idp.test",
                                              "exp": int(time.time()) + 300}), time.time() + 300),
    }
    for what, token_for in bad_tokens.items():
        errors = []
        delivered = []
        p = Producer({**conf(bootstrap, token_for), "error_cb": errors.append,
                      "message.timeout.ms": 8000})
        p.produce(f"{topic}-denied", value=b"no", on_delivery=lambda e, m: delivered.append(e))
        p.flush(20)
        check(delivered and delivered[0] is not None, f"{what}: a record was delivered")
        auth = [e for e in errors if e.code() == KafkaError._AUTHENTICATION]
        check(auth, f"{what}: no authentication error: {errors}")
        check("invalid_token" in str(auth[0]), f"{what}: {auth[0]}")
        log(f"{what}: refused ({auth[0]})")
    log("ok")


def main():
    if len(sys.argv) in (4, 5) and sys.argv[2] == "keygen":
        keygen(*sys.argv[3:])
    elif len(sys.argv) == 6 and sys.argv[2] == "token":
        token(sys.argv[3], sys.argv[4], sys.argv[5])
    elif len(sys.argv) == 5 and sys.argv[2] == "run":
        run(sys.argv[1], sys.argv[3], sys.argv[4])
    else:
        fail(f"usage: {sys.argv[0]} - keygen DIR | BOOTSTRAP run DIR TOPIC")


if __name__ == "__main__":
    main()
