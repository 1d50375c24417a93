//! Just enough of Avro to write Iceberg's manifests and manifest lists:
//! values in Avro's binary encoding and the object container file around
//! them (uncompressed). Iceberg readers take each file's schema from its
//! header and resolve fields by their `field-id` attributes, so the schema
//! text is written as given, attributes and all.

/// An Avro value of the kinds Iceberg's manifests use.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`.
    Null,
    /// `int`.
    Int(i32),
    /// `long`.
    Long(i64),
    /// `string`.
    String(String),
    /// `bytes`.
    Bytes(Vec<u8>),
    /// A record: its fields in schema order.
    Record(Vec<Value>),
    /// An array.
    Array(Vec<Value>),
    /// A branch of a union, by its index in the union.
    Union(u32, Box<Value>),
}

impl Value {
    /// An optional value as the union `["null", T]`.
    pub fn optional(value: Option<Value>) -> Self {
        match value {
            None => Self::Union(0, Box::new(Self::Null)),
            Some(v) => Self::Union(1, Box::new(v)),
        }
    }

    /// Appends the binary encoding of the value.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Null => {}
            Self::Int(v) => put_long(out, i64::from(*v)),
            Self::Long(v) => put_long(out, *v),
            Self::String(s) => put_bytes(out, s.as_bytes()),
            Self::Bytes(b) => put_bytes(out, b),
            Self::Record(fields) => fields.iter().for_each(|f| f.encode(out)),
            Self::Array(items) => {
                if !items.is_empty() {
                    put_long(out, items.len() as i64);
                    items.iter().for_each(|i| i.encode(out));
                }
                put_long(out, 0);
            }
            Self::Union(branch, value) => {
                put_long(out, i64::from(*branch));
                value.encode(out);
            }
        }
    }
}

/// An Avro object container file: header (magic, `avro.schema`,
/// `avro.codec` = null and the extra `metadata`), then one block of
/// `records`. `sync` is the file's 16-byte sync marker.
pub fn container(
    schema: &str,
    metadata: &[(&str, String)],
    records: &[Value],
    sync: [u8; 16],
) -> Vec<u8> {
    let mut out = b"Obj\x01".to_vec();
    let mut entries: Vec<(&str, &[u8])> =
        vec![("avro.schema", schema.as_bytes()), ("avro.codec", b"null")];
    entries.extend(metadata.iter().map(|(k, v)| (*k, v.as_bytes())));
    put_long(&mut out, entries.len() as i64);
    for (key, value) in entries {
        put_bytes(&mut out, key.as_bytes());
        put_bytes(&mut out, value);
    }
    put_long(&mut out, 0);
    out.extend_from_slice(&sync);
    if !records.is_empty() {
        let mut block = Vec::new();
        records.iter().for_each(|r| r.encode(&mut block));
        put_long(&mut out, records.len() as i64);
        put_long(&mut out, block.len() as i64);
        out.extend_from_slice(&block);
        out.extend_from_slice(&sync);
    }
    out
}

/// A zigzag varint.
pub fn put_long(out: &mut Vec<u8>, value: i64) {
    let mut v = ((value << 1) ^ (value >> 63)) as u64;
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes(out: &mut Vec<u8>, data: &[u8]) {
    put_long(out, data.len() as i64);
    out.extend_from_slice(data);
}
