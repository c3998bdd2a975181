// Decodes an ebprof pprof file with the independent npm decoder
// pprof-format and prints what it read as JSON: sample types, the
// default type, mappings, and each sample's frames (root first, function
// names through locations) and values.
"use strict";
const fs = require("fs");
const zlib = require("zlib");
const { Profile } = require("pprof-format");

const raw = fs.readFileSync(process.argv[2]);
if (raw[0] !== 0x1f || raw[1] !== 0x8b) throw new Error("not gzip-compressed");
const p = Profile.decode(zlib.gunzipSync(raw));
const s = p.stringTable.strings;
const fn = new Map(p.function.map((f) => [Number(f.id), f]));
const loc = new Map(p.location.map((l) => [Number(l.id), l]));
const map = new Map(p.mapping.map((m) => [Number(m.id), m]));
const frame = (id) => {
  const l = loc.get(Number(id));
  if (!l) throw new Error(`sample names missing location ${id}`);
  const f = fn.get(Number(l.line[0].functionId));
  if (!f) throw new Error(`location ${id} names a missing function`);
  const m = Number(l.mappingId) ? map.get(Number(l.mappingId)) : null;
  if (Number(l.mappingId) && !m) throw new Error(`location ${id} names a missing mapping`);
  return { name: s[Number(f.name)], mapping: m ? s[Number(m.filename)] : null };
};
console.log(JSON.stringify({
  sample_types: p.sampleType.map((t) => [s[Number(t.type)], s[Number(t.unit)]]),
  default: s[Number(p.defaultSampleType)],
  duration: Number(p.durationNanos),
  comment: p.comment.map((c) => s[Number(c)]),
  mappings: p.mapping.map((m) => s[Number(m.filename)]),
  samples: p.sample.map((x) => ({
    frames: x.locationId.map(frame).reverse(),
    values: x.value.map(Number),
  })),
}));
