using System.Buffers.Binary;
using Predictor.Training.Onnx.Proto;

namespace Predictor.Training.Tests.Onnx;

/// <summary>
/// A deliberately naive interpreter for the few float32 operators our writers emit, used by tests to check what a
/// written graph computes (independently of ONNX Runtime): it reads only the parsed protobuf, so it tests the bytes.
/// Unknown operators fail loudly.
/// </summary>
internal static class OnnxReferenceEvaluator
{
    internal sealed record Tensor(float[] Data, long[] Shape);

    public static Dictionary<string, Tensor> Run(ModelProto model, IReadOnlyDictionary<string, Tensor> inputs)
    {
        var values = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var ints = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var t in model.Graph.Initializer)
        {
            var raw = t.RawData.Span;
            if (t.DataType == (int)TensorProto.Types.DataType.Float)
            {
                var data = new float[raw.Length / 4];
                for (int i = 0; i < data.Length; i++)
                {
                    data[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(i * 4)..]);
                }

                values[t.Name] = new Tensor(data, [.. t.Dims]);
            }
            else if (t.DataType == (int)TensorProto.Types.DataType.Int64)
            {
                var data = new long[raw.Length / 8];
                for (int i = 0; i < data.Length; i++)
                {
                    data[i] = BinaryPrimitives.ReadInt64LittleEndian(raw[(i * 8)..]);
                }

                ints[t.Name] = data;
            }
            else
            {
                throw new NotSupportedException($"Initializer {t.Name} has data type {t.DataType}.");
            }
        }

        foreach (var (k, v) in inputs)
        {
            values[k] = v;
        }

        foreach (var node in model.Graph.Node)
        {
            Tensor In(int i) => values[node.Input[i]];
            long IntAttr(string name, long fallback) => node.Attribute.FirstOrDefault(a => a.Name == name)?.I ?? fallback;
            Tensor result = node.OpType switch
            {
                "Identity" => In(0),
                "Sum" => node.Input.Skip(1).Aggregate(In(0), (acc, name) => Broadcast(acc, values[name], (a, b) => a + b)),
                "Add" => Broadcast(In(0), In(1), (a, b) => a + b),
                "Sub" => Broadcast(In(0), In(1), (a, b) => a - b),
                "Mul" => Broadcast(In(0), In(1), (a, b) => a * b),
                "Div" => Broadcast(In(0), In(1), (a, b) => a / b),
                "Sqrt" => new Tensor([.. In(0).Data.Select(MathF.Sqrt)], In(0).Shape),
                "MatMul" => MatMul(In(0), In(1)),
                "Gather" => Gather(In(0), ints[node.Input[1]], IntAttr("axis", 0)),
                "Concat" => Concat(In(0), In(1), IntAttr("axis", 0)),
                "ReduceMean" => ReduceMeanLastAxis(In(0), IntAttr("keepdims", 1)),
                _ => throw new NotSupportedException($"The reference evaluator does not know {node.OpType}."),
            };
            values[node.Output[0]] = result;
        }

        return model.Graph.Output.ToDictionary(o => o.Name, o => values[o.Name], StringComparer.Ordinal);
    }

    private static Tensor MatMul(Tensor a, Tensor b)
    {
        Assert.Equal(2, a.Shape.Length);
        Assert.Equal(2, b.Shape.Length);
        int n = (int)a.Shape[0], k = (int)a.Shape[1], m = (int)b.Shape[1];
        Assert.Equal(k, (int)b.Shape[0]);
        var c = new float[n * m];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < m; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                {
                    s += (double)a.Data[(i * k) + p] * b.Data[(p * m) + j];
                }

                c[(i * m) + j] = (float)s;
            }
        }

        return new Tensor(c, [n, m]);
    }

    private static Tensor Gather(Tensor x, long[] indices, long axis)
    {
        Assert.Equal(1, axis);
        Assert.Equal(2, x.Shape.Length);
        int n = (int)x.Shape[0], w = (int)x.Shape[1];
        var y = new float[n * indices.Length];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < indices.Length; j++)
            {
                long idx = indices[j] < 0 ? indices[j] + w : indices[j];
                y[(i * indices.Length) + j] = x.Data[(i * w) + idx];
            }
        }

        return new Tensor(y, [n, indices.Length]);
    }

    private static Tensor Concat(Tensor a, Tensor b, long axis)
    {
        Assert.Equal(1, axis);
        int n = (int)a.Shape[0], wa = (int)a.Shape[1], wb = (int)b.Shape[1];
        var y = new float[n * (wa + wb)];
        for (int i = 0; i < n; i++)
        {
            Array.Copy(a.Data, i * wa, y, i * (wa + wb), wa);
            Array.Copy(b.Data, i * wb, y, (i * (wa + wb)) + wa, wb);
        }

        return new Tensor(y, [n, wa + wb]);
    }

    private static Tensor ReduceMeanLastAxis(Tensor x, long keepDims)
    {
        int n = (int)x.Shape[0], w = (int)x.Shape[1];
        var y = new float[n];
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int j = 0; j < w; j++)
            {
                s += x.Data[(i * w) + j];
            }

            y[i] = (float)(s / w);
        }

        return new Tensor(y, keepDims == 1 ? [n, 1] : [n]);
    }

    /// <summary>NumPy-style broadcasting of two tensors of rank ≤ 2.</summary>
    private static Tensor Broadcast(Tensor a, Tensor b, Func<float, float, float> op)
    {
        long[] sa = Pad(a.Shape), sb = Pad(b.Shape);
        long rows = Math.Max(sa[0], sb[0]), cols = Math.Max(sa[1], sb[1]);
        var y = new float[rows * cols];
        for (long i = 0; i < rows; i++)
        {
            for (long j = 0; j < cols; j++)
            {
                float va = a.Data[((sa[0] == 1 ? 0 : i) * sa[1]) + (sa[1] == 1 ? 0 : j)];
                float vb = b.Data[((sb[0] == 1 ? 0 : i) * sb[1]) + (sb[1] == 1 ? 0 : j)];
                y[(i * cols) + j] = op(va, vb);
            }
        }

        int rank = Math.Max(a.Shape.Length, b.Shape.Length);
        return new Tensor(y, rank == 2 ? [rows, cols] : [cols]);

        static long[] Pad(long[] s) => s.Length switch
        {
            0 => [1, 1],
            1 => [1, s[0]],
            2 => s,
            _ => throw new NotSupportedException("rank > 2"),
        };
    }
}
