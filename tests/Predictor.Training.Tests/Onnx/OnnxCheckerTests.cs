using Google.Protobuf;
using Predictor.Training.Onnx.Proto;

namespace Predictor.Training.Tests.Onnx;

/// <summary>The official ONNX checker (python3-onnx, full_check) must accept every model the writer emits.</summary>
public sealed class OnnxCheckerTests
{
    [Theory]
    [MemberData(nameof(SampleModels.Kinds), MemberType = typeof(SampleModels))]
    public void CheckModel_EveryWrittenKind_IsAccepted(string kind)
    {
        OnnxChecker.AssertAccepted(SampleModels.Build(kind), kind);
    }

    [Fact]
    public void CheckModel_NodeReadingAnUndefinedTensor_IsRejected()
    {
        // Proves the checker test can fail: the same naive model with its Gather rewired to a name nothing defines.
        var model = ModelProto.Parser.ParseFrom(SampleModels.Build("naive"));
        model.Graph.Node[0].Input[0] = "no_such_tensor";

        var (code, _, err) = OnnxChecker.Check(model.ToByteArray());

        Assert.NotEqual(0, code);
        Assert.Contains("no_such_tensor", err, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckModel_DeclaredOutputShapeContradictsTheGraph_IsRejectedByFullCheck()
    {
        // full_check runs strict shape inference: a forecast declared [N, 13] while the graph computes [N, 12] fails.
        var model = ModelProto.Parser.ParseFrom(SampleModels.Build("linear"));
        model.Graph.Output[0].Type.TensorType.Shape.Dim[1].DimValue = 13;

        var (code, _, _) = OnnxChecker.Check(model.ToByteArray());

        Assert.NotEqual(0, code);
    }
}
