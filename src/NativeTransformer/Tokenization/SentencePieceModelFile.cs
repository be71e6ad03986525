namespace NativeTransformer.Tokenization;

/// <summary>
/// A sentencepiece ModelProto (spiece.model, sentencepiece.bpe.model), read with a minimal protobuf reader: the pieces
/// (piece, score, type), trainer_spec (model_type, byte_fallback, unk/bos/eos/pad ids) and normalizer_spec
/// (precompiled_charsmap, add_dummy_prefix, remove_extra_whitespaces). Every length is bounds-checked, so a corrupt or
/// truncated file is a <see cref="TokenizerException"/>, never a crash or a hang.
/// </summary>
internal sealed class SentencePieceModelFile
{
    public const int Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6;
    public const int Unigram = 1, Bpe = 2, Word = 3, Char = 4;

    public readonly List<(string Piece, float Score, int Type)> Pieces = new();
    public int ModelType = Unigram;
    public bool ByteFallback;
    public int UnkId, BosId = 1, EosId = 2, PadId = -1;
    public byte[]? PrecompiledCharsMap;
    public bool AddDummyPrefix = true, RemoveExtraWhitespaces = true;

    public static SentencePieceModelFile Load(string path)
    {
        var info = new FileInfo(path);
        if (info.Length > 256L << 20) throw new TokenizerException($"{path}: {info.Length} bytes is larger than the 256 MB limit for a sentencepiece model");
        return Parse(File.ReadAllBytes(path), path);
    }

    public static SentencePieceModelFile Parse(ReadOnlySpan<byte> data, string path)
    {
        var m = new SentencePieceModelFile();
        var r = new Reader(data, path);
        while (!r.End)
        {
            var (field, wire) = r.Tag();
            switch (field)
            {
                case 1 when wire == 2: m.ReadPiece(r.Bytes(), path); break;
                case 2 when wire == 2: m.ReadTrainerSpec(r.Bytes(), path); break;
                case 3 when wire == 2: m.ReadNormalizerSpec(r.Bytes(), path); break;
                default: r.Skip(wire); break;
            }
        }
        if (m.Pieces.Count == 0) throw new TokenizerException($"{path}: the sentencepiece model has no pieces (not a sentencepiece .model file?)");
        return m;
    }

    private void ReadPiece(ReadOnlySpan<byte> data, string path)
    {
        var r = new Reader(data, path);
        string? piece = null;
        float score = 0;
        int type = Normal;
        while (!r.End)
        {
            var (field, wire) = r.Tag();
            if (field == 1 && wire == 2) piece = r.String();
            else if (field == 2 && wire == 5) score = r.Float();
            else if (field == 3 && wire == 0) type = (int)r.Varint();
            else r.Skip(wire);
        }
        if (piece == null) throw new TokenizerException($"{path}: piece {Pieces.Count} has no text");
        if (!float.IsFinite(score)) throw new TokenizerException($"{path}: piece {Pieces.Count} ('{piece}') has score {score}");
        Pieces.Add((piece, score, type));
    }

    private void ReadTrainerSpec(ReadOnlySpan<byte> data, string path)
    {
        var r = new Reader(data, path);
        while (!r.End)
        {
            var (field, wire) = r.Tag();
            if (wire != 0) { r.Skip(wire); continue; }
            long v = (long)r.Varint();
            switch (field)
            {
                case 3: ModelType = (int)v; break;
                case 35: ByteFallback = v != 0; break;
                case 40: UnkId = (int)v; break;
                case 41: BosId = (int)v; break;
                case 42: EosId = (int)v; break;
                case 43: PadId = (int)v; break;
            }
        }
    }

    private void ReadNormalizerSpec(ReadOnlySpan<byte> data, string path)
    {
        var r = new Reader(data, path);
        while (!r.End)
        {
            var (field, wire) = r.Tag();
            if (field == 2 && wire == 2) PrecompiledCharsMap = r.Bytes().ToArray();
            else if (field == 3 && wire == 0) AddDummyPrefix = r.Varint() != 0;
            else if (field == 4 && wire == 0) RemoveExtraWhitespaces = r.Varint() != 0;
            else r.Skip(wire);
        }
    }

    /// <summary>Protobuf wire-format reader over a span; every read checks the remaining length.</summary>
    private ref struct Reader(ReadOnlySpan<byte> data, string path)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _pos;

        public readonly bool End => _pos >= _data.Length;

        private readonly TokenizerException Corrupt(string what) =>
            new($"{path}: corrupt or truncated sentencepiece model ({what} at byte {_pos})");

        public ulong Varint()
        {
            ulong v = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                if (_pos >= _data.Length) throw Corrupt("truncated varint");
                byte b = _data[_pos++];
                v |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return v;
            }
            throw Corrupt("varint longer than 10 bytes");
        }

        public (int Field, int Wire) Tag()
        {
            ulong t = Varint();
            int field = (int)(t >> 3), wire = (int)(t & 7);
            if (field == 0 || t >> 3 > int.MaxValue) throw Corrupt("invalid field number");
            return (field, wire);
        }

        public ReadOnlySpan<byte> Bytes()
        {
            ulong len = Varint();
            if (len > (ulong)(_data.Length - _pos)) throw Corrupt($"a {len}-byte field past the end");
            var s = _data.Slice(_pos, (int)len);
            _pos += (int)len;
            return s;
        }

        public string String()
        {
            var b = Bytes();
            try { return new System.Text.UTF8Encoding(false, true).GetString(b); }
            catch (System.Text.DecoderFallbackException) { throw Corrupt("a piece that is not valid UTF-8"); }
        }

        public float Float()
        {
            if (_data.Length - _pos < 4) throw Corrupt("truncated float");
            float f = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(_data.Slice(_pos));
            _pos += 4;
            return f;
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: Varint(); break;
                case 1: if (_data.Length - _pos < 8) throw Corrupt("truncated 64-bit field"); _pos += 8; break;
                case 2: Bytes(); break;
                case 5: if (_data.Length - _pos < 4) throw Corrupt("truncated 32-bit field"); _pos += 4; break;
                default: throw Corrupt($"unsupported wire type {wire}");
            }
        }
    }
}
