// Generates tests/fixtures/tokenizer/hf-js-vectors.jsonl: strings tokenized by an independent implementation,
// the npm package @huggingface/transformers (transformers.js), loading models/bert-mini-sst2/tokenizer.json offline.
//
// Usage (from the repository root; npm is only needed here, never by the tests):
//   mkdir -p /tmp/hfjs && (cd /tmp/hfjs && npm init -y && npm install --ignore-scripts @huggingface/transformers)
//   HFJS_DIR=/tmp/hfjs SHARED=../shared node tools/tokenizer-vectors/gen.mjs
//
// Output: one JSON object per line {"i", "kind", "text", "pair", "ids"}; ids include [CLS]/[SEP]; no truncation.
// Deterministic: a seeded PRNG (mulberry32) draws the random strings; real sentences are taken in file order.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const HFJS_DIR = process.env.HFJS_DIR ?? "/tmp/hfjs";
const SHARED = path.resolve(process.env.SHARED ?? "../shared");
const OUT = path.resolve(process.env.OUT ?? "tests/fixtures/tokenizer/hf-js-vectors.jsonl");
const MODEL = process.env.MODEL ?? "bert-mini-sst2";

const tjs = await import(pathToFileURL(path.join(HFJS_DIR, "node_modules/@huggingface/transformers/dist/transformers.node.mjs")).href);
const { AutoTokenizer, env } = tjs;
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = path.join(SHARED, "models") + "/";
const tokenizer = await AutoTokenizer.from_pretrained(MODEL);

// ---------- deterministic PRNG ----------
function mulberry32(a) {
  return function () {
    a |= 0; a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(20240607);
const randInt = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1)); // inclusive
const pick = (arr) => arr[Math.floor(rnd() * arr.length)];

// ---------- real sentences ----------
function lines(file) { return fs.readFileSync(file, "utf8").replace(/^\uFEFF/, "").split(/\r?\n/).filter((l) => l.length > 0); }
const sst2 = lines(path.join(SHARED, "data/sst2/train.tsv")).slice(1).map((l) => l.split("\t")[0]);
const sts = lines(path.join(SHARED, "data/stsbenchmark/sts-train.csv")).map((l) => l.split("\t")).filter((c) => c.length >= 7);
const mrpc = lines(path.join(SHARED, "data/mrpc/msr_paraphrase_train.txt")).slice(1).map((l) => l.split("\t")).filter((c) => c.length >= 5);

function every(arr, n) { const step = Math.max(1, Math.floor(arr.length / n)); const out = []; for (let i = 0; i < arr.length && out.length < n; i += step) out.push(arr[i]); return out; }

// ---------- random Unicode pools ----------
const range = (a, b) => { const r = []; for (let c = a; c <= b; c++) r.push(c); return r; };
const pools = {
  ascii: range(0x21, 0x7e),
  latin1: range(0xc0, 0xff).concat(range(0x100, 0x17f)),
  combining: range(0x300, 0x36f).concat([0x1ab0, 0x1dc0, 0x20d0, 0x20e3, 0xfe20]),
  greek: range(0x391, 0x3a9).concat(range(0x3b1, 0x3c9), [0x3a3, 0x3c2, 0x386, 0x388, 0x390, 0x3b0]),
  cyrillic: range(0x400, 0x45f),
  cjk: range(0x4e00, 0x4e80).concat(range(0x6c00, 0x6c40), range(0x3400, 0x3420), range(0xf900, 0xf920)),
  cjkSupp: [0x20000, 0x20001, 0x2000b, 0x20021, 0x2a6d6, 0x2a700, 0x2b740, 0x2b81d, 0x2b820, 0x2b8b8, 0x2b920, 0x2ceaf, 0x2f800, 0x2fa1d],
  kana: range(0x3041, 0x3096).concat(range(0x30a1, 0x30fa)),
  hangul: range(0xac00, 0xac40).concat(range(0xd4db, 0xd4e0), range(0x1100, 0x1112)),
  arabic: range(0x621, 0x64a).concat(range(0x64b, 0x652), [0x660, 0x669, 0x6d4, 0x61f, 0x60c]),
  hebrew: range(0x5d0, 0x5ea).concat([0x5b4, 0x5bc, 0x5c3, 0x5be]),
  devanagari: range(0x905, 0x939).concat([0x93e, 0x93f, 0x940, 0x94d, 0x964, 0x902]),
  thai: range(0xe01, 0xe2e).concat([0xe31, 0xe34, 0xe47, 0xe48]),
  emoji: range(0x1f600, 0x1f64f).concat(range(0x1f300, 0x1f320), range(0x1f900, 0x1f9ff), [0x2764, 0x2728, 0x1f44d, 0x1f3fb, 0x1f3ff, 0x200d, 0xfe0f, 0x1f1fa, 0x1f1f8, 0x1fae0]),
  zeroWidth: [0x200b, 0x200c, 0x200d, 0x2060, 0xfeff, 0x00ad, 0x180e, 0x034f],
  bidi: [0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x061c],
  control: range(0x0, 0x1f).concat(range(0x7f, 0x9f)),
  spaces: [0x20, 0x20, 0x09, 0x0a, 0x0d, 0x0b, 0x0c, 0xa0, 0x1680, 0x2000, 0x2003, 0x2007, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0x85, 0x1c, 0x1f],
  punct: range(0x2010, 0x2027).concat(range(0x3001, 0x3011), range(0xff01, 0xff0f), [0xa1, 0xbf, 0xab, 0xbb, 0xb7, 0x55d, 0x58a, 0x61f, 0x964, 0x2e2e, 0x1f1e6 - 0x1f1e6 + 0x2e3b, 0xa4fe, 0x16fe2]),
  symbols: [0xa9, 0xae, 0x2122, 0x20ac, 0xa3, 0xa5, 0x24, 0x2030, 0x2211, 0x221e, 0x2248, 0x00b0, 0x00b5, 0x2126, 0x212a, 0x212b, 0x00bd, 0x2153, 0x00b2, 0x2460, 0x24b6],
  compat: [0xfb01, 0xfb02, 0x2160, 0x2163, 0xff21, 0xff41, 0x1d400, 0x1d41a, 0x1d7ce, 0x2070, 0x2080, 0x3300, 0x32a4, 0xfe50],
  special: [0x130, 0x131, 0x1e9e, 0xdf, 0x149, 0x1f0, 0x390, 0x1e96, 0x1f88, 0x1fbc, 0x10a0, 0x13a0, 0x2c00, 0xa640, 0x10400, 0x1e900, 0x16e40, 0x104b0],
  privateUse: [0xe000, 0xe123, 0xf8ff, 0xf0000, 0x10fffd],
  unassigned: [0x378, 0x9ff0 + 0x10, 0x1fb00 - 0x100, 0x2fffd, 0xe0001, 0xe0020, 0xe007f],
};
const poolNames = Object.keys(pools);
const cp = (c) => String.fromCodePoint(c);
function randomWord(pool) { let s = ""; const n = randInt(1, 8); for (let i = 0; i < n; i++) s += cp(pick(pool)); return s; }
const asciiWords = ["hello", "world", "the", "movie", "Café", "naïve", "résumé", "Führer", "don't", "e-mail", "U.S.A.", "3.14", "100%", "$5", "C++", "#hashtag", "@user", "http://x.org/a?b=c", "ÉCOLE", "İstanbul", "ΟΔΟΣ", "Σίσυφος", "straße", "ǅemal", "ﬁne", "[MASK]", "[CLS]", "[UNK]", "[mask]", "[SEP]x", "a[PAD]b"];

function randomString() {
  const parts = [];
  const n = randInt(1, 10);
  // each string mixes 1-3 pools plus ordinary words and separators
  const chosen = [pick(poolNames), pick(poolNames), pick(poolNames)].slice(0, randInt(1, 3));
  for (let i = 0; i < n; i++) {
    const r = rnd();
    if (r < 0.3) parts.push(pick(asciiWords));
    else if (r < 0.85) parts.push(randomWord(pools[pick(chosen)]));
    else if (r < 0.92) parts.push(pick(asciiWords) + cp(pick(pools.combining)));
    else parts.push(randomWord(pools.ascii));
    const sep = rnd();
    parts.push(sep < 0.75 ? " " : sep < 0.9 ? "" : cp(pick(pools.spaces)));
  }
  return parts.join("");
}

// ---------- assemble ----------
const items = [];
for (const s of every(sst2, 1200)) items.push({ kind: "sst2", text: s, pair: null });
for (const c of every(sts, 300)) items.push({ kind: "sts-pair", text: c[5], pair: c[6] });
for (const c of every(mrpc, 250)) items.push({ kind: "mrpc-pair", text: c[3], pair: c[4] });
for (const c of every(mrpc.slice(1000), 250)) items.push({ kind: "mrpc", text: c[3], pair: null });
for (let i = 0; i < 1700; i++) items.push({ kind: "random", text: randomString(), pair: null });
for (let i = 0; i < 200; i++) items.push({ kind: "random-pair", text: randomString(), pair: randomString() });
// every pool on its own, one code point at a time (single-character behaviour of each class)
for (const name of poolNames) for (const c of pools[name]) if (rnd() < 0.25 || name === "cjkSupp" || name === "special" || name === "compat") items.push({ kind: "char:" + name, text: "a" + cp(c) + "b " + cp(c), pair: null });

const out = fs.createWriteStream(OUT);
let i = 0;
for (const it of items) {
  const enc = it.pair === null ? await tokenizer(it.text) : await tokenizer(it.text, { text_pair: it.pair });
  const ids = Array.from(enc.input_ids.data, (v) => Number(v));
  out.write(JSON.stringify({ i: i++, kind: it.kind, text: it.text, pair: it.pair, ids }) + "\n");
}
out.end();
await new Promise((r) => out.on("finish", r));
console.log(`wrote ${i} vectors to ${OUT} (${fs.statSync(OUT).size} bytes) with transformers.js ${tjs.env.version ?? "?"}`);
