// Validates a speedscope file against the file-format schema shipped in
// the npm speedscope package (with the JSON schema validator ajv), and
// that every sample names an existing shared frame and has its weight.
// Prints "ok" or the errors, exit status 1 on errors.
"use strict";
const fs = require("fs");
const path = require("path");
const Ajv = require("ajv");

const schemaPath = path.join(path.dirname(require.resolve("speedscope/package.json")),
  "dist", "release", "file-format-schema.json");
const schema = JSON.parse(fs.readFileSync(schemaPath, "utf8"));
const doc = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const ajv = new Ajv({ strict: false, allErrors: true });
const errors = [];
if (!ajv.validate(schema, doc)) errors.push(ajv.errorsText(ajv.errors));
const nframes = doc.shared.frames.length;
doc.profiles.forEach((p, i) => {
  if (p.samples.length !== p.weights.length) errors.push(`profile ${i}: samples/weights differ`);
  p.samples.forEach((s) => s.forEach((f) => {
    if (!Number.isInteger(f) || f < 0 || f >= nframes) errors.push(`profile ${i}: frame ${f}`);
  }));
});
if (doc.activeProfileIndex >= doc.profiles.length) errors.push("activeProfileIndex out of range");
if (errors.length) {
  console.log(errors.join("\n"));
  process.exit(1);
}
console.log("ok");
