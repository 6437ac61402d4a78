namespace Predictor.Training.Trees;

/// <summary>
/// Boosts the ensemble of one horizon step at a time, reusing its buffers for every step it is given (one booster
/// per thread). Squared loss: gradient g = prediction − target, hessian 1, so a leaf's Newton value is
/// −Σg / (n + λ) and a split's gain is G_L²/(n_L + λ) + G_R²/(n_R + λ) − G²/(n + λ) (the constant ½ dropped).
/// All arithmetic of a step runs on one thread in a fixed order, so results never depend on scheduling.
/// </summary>
internal sealed class HorizonBooster
{
    private readonly SharedData _shared;
    private readonly int _n;
    private readonly int _nVal;
    private readonly int _features;
    private readonly int _stride;
    private readonly int _maxLeaves;

    // Per training row (indexed by row) and per position in the leaf-ordered row permutation.
    private readonly double[] _y;
    private readonly double[] _pred;
    private readonly double[] _g;
    private readonly int[] _rows;
    private readonly int[] _rowsTmp;
    private readonly double[] _gOrd;
    private readonly double[] _gTmp;
    private readonly double[] _yVal;
    private readonly double[] _predVal;

    // Histogram slots, [slot, feature, bin]: gradient sum and row count side by side (one cache line per update);
    // a free-list of slots.
    private readonly HistogramBin[] _hist;
    private readonly int[] _freeSlots;
    private int _freeCount;

    // Open leaves of the tree being grown.
    private readonly int[] _leafStart;
    private readonly int[] _leafCount;
    private readonly double[] _leafG;
    private readonly int[] _leafDepth;
    private readonly int[] _leafSlot;
    private readonly int[] _leafNode;
    private readonly double[] _bestGain;
    private readonly int[] _bestFeature;
    private readonly int[] _bestBin;
    private readonly double[] _bestGL;
    private readonly int[] _bestCL;

    // Nodes of the tree being grown, numbered from 0.
    private readonly int[] _nodeFeature;
    private readonly byte[] _nodeBin;
    private readonly int[] _nodeLeft;
    private readonly int[] _nodeRight;
    private readonly float[] _nodeValue;
    private int _nodeCount;

    private readonly int[] _eligible;
    private int _eligibleCount;

    public HorizonBooster(SharedData shared)
    {
        _shared = shared;
        _n = shared.Train;
        _nVal = shared.Validation;
        _features = shared.Binner.FeatureCount;
        _stride = shared.Binner.MaxBinCount;
        _maxLeaves = shared.Options.MaxLeaves;
        _y = new double[_n];
        _pred = new double[_n];
        _g = new double[_n];
        _rows = new int[_n];
        _rowsTmp = new int[_n];
        _gOrd = new double[_n];
        _gTmp = new double[_n];
        _yVal = new double[_nVal];
        _predVal = new double[_nVal];
        _hist = new HistogramBin[_maxLeaves * _features * _stride];
        _freeSlots = new int[_maxLeaves];
        _leafStart = new int[_maxLeaves];
        _leafCount = new int[_maxLeaves];
        _leafG = new double[_maxLeaves];
        _leafDepth = new int[_maxLeaves];
        _leafSlot = new int[_maxLeaves];
        _leafNode = new int[_maxLeaves];
        _bestGain = new double[_maxLeaves];
        _bestFeature = new int[_maxLeaves];
        _bestBin = new int[_maxLeaves];
        _bestGL = new double[_maxLeaves];
        _bestCL = new int[_maxLeaves];
        int maxNodes = (2 * _maxLeaves) - 1;
        _nodeFeature = new int[maxNodes];
        _nodeBin = new byte[maxNodes];
        _nodeLeft = new int[maxNodes];
        _nodeRight = new int[maxNodes];
        _nodeValue = new float[maxNodes];
        _eligible = new int[_features];
    }

    public HorizonTrees Boost(int h)
    {
        var options = _shared.Options;
        var data = _shared.Data;
        int width = data.FeatureWidth;
        int horizon = data.Horizon;
        int last = _shared.Window - 1;
        bool difference = options.PredictDifference;
        var features = data.Features;
        var targets = data.Targets;

        double sum = 0;
        for (int r = 0; r < _n; r++)
        {
            _y[r] = targets[(r * horizon) + h] - (difference ? (double)features[(r * width) + last] : 0.0);
            sum += _y[r];
        }

        float baseValue = (float)(sum / _n);
        Array.Fill(_pred, baseValue);
        int firstVal = data.Rows - _nVal;
        double bestLoss = 0;
        for (int i = 0; i < _nVal; i++)
        {
            int r = firstVal + i;
            _yVal[i] = targets[(r * horizon) + h] - (difference ? (double)features[(r * width) + last] : 0.0);
            _predVal[i] = baseValue;
            double e = _predVal[i] - _yVal[i];
            bestLoss += e * e;
        }

        var outFeature = new List<int>();
        var outBin = new List<byte>();
        var outLeft = new List<int>();
        var outRight = new List<int>();
        var outValue = new List<float>();
        var treeStart = new List<int>();
        int bestTrees = 0;
        var rng = new Random(unchecked((options.Seed * 1_000_003) + h));
        for (int it = 0; it < options.MaxIterations; it++)
        {
            for (int r = 0; r < _n; r++)
            {
                _g[r] = _pred[r] - _y[r];
            }

            ChooseFeatures(rng, options.FeatureFraction);
            if (!GrowTree(options))
            {
                // The root cannot split: every later tree would be the same single leaf, worth nothing.
                break;
            }

            int offset = outFeature.Count;
            treeStart.Add(offset);
            for (int i = 0; i < _nodeCount; i++)
            {
                outFeature.Add(_nodeFeature[i]);
                outBin.Add(_nodeBin[i]);
                outLeft.Add(_nodeFeature[i] >= 0 ? _nodeLeft[i] + offset : -1);
                outRight.Add(_nodeFeature[i] >= 0 ? _nodeRight[i] + offset : -1);
                outValue.Add(_nodeValue[i]);
            }

            if (_nVal == 0)
            {
                bestTrees = treeStart.Count;
                continue;
            }

            double loss = UpdateValidation();
            if (loss < bestLoss - (options.EarlyStoppingTolerance * bestLoss))
            {
                bestLoss = loss;
                bestTrees = treeStart.Count;
            }
            else if (treeStart.Count - bestTrees >= options.EarlyStoppingRounds)
            {
                break;
            }
        }

        // Keep the trees up to the best validation round.
        int nodes = bestTrees < treeStart.Count ? treeStart[bestTrees] : outFeature.Count;
        return new HorizonTrees
        {
            BaseValue = baseValue,
            TreeCount = bestTrees,
            NodeCount = nodes,
            TreeStart = [.. treeStart.GetRange(0, bestTrees)],
            Feature = [.. outFeature.GetRange(0, nodes)],
            Bin = [.. outBin.GetRange(0, nodes)],
            Left = [.. outLeft.GetRange(0, nodes)],
            Right = [.. outRight.GetRange(0, nodes)],
            Value = [.. outValue.GetRange(0, nodes)],
        };
    }

    private void ChooseFeatures(Random rng, double fraction)
    {
        for (int f = 0; f < _features; f++)
        {
            _eligible[f] = f;
        }

        _eligibleCount = _features;
        if (fraction >= 1)
        {
            return;
        }

        int k = Math.Max(1, (int)Math.Round(_features * fraction));
        for (int i = 0; i < k; i++)
        {
            int j = rng.Next(i, _features);
            (_eligible[i], _eligible[j]) = (_eligible[j], _eligible[i]);
        }

        // Ascending, so ties between equal gains break towards the lower feature as with all features.
        Array.Sort(_eligible, 0, k);
        _eligibleCount = k;
    }

    /// <summary>Grows one tree best-first; false when the root has no split worth making (nothing is added).</summary>
    private bool GrowTree(GbdtOptions options)
    {
        for (int i = 0; i < _maxLeaves; i++)
        {
            _freeSlots[i] = _maxLeaves - 1 - i;
        }

        _freeCount = _maxLeaves;
        double g = 0;
        for (int i = 0; i < _n; i++)
        {
            _rows[i] = i;
            _gOrd[i] = _g[i];
            g += _g[i];
        }

        _nodeCount = 1;
        _nodeFeature[0] = -1;
        int leaves = 1;
        _leafStart[0] = 0;
        _leafCount[0] = _n;
        _leafG[0] = g;
        _leafDepth[0] = 0;
        _leafNode[0] = 0;
        _leafSlot[0] = AllocateSlot();
        _bestGain[0] = double.NegativeInfinity;
        if (CanSplit(options, 0, _n))
        {
            BuildHistogram(_leafSlot[0], 0, _n);
            FindBestSplit(0, options);
        }

        while (leaves < _maxLeaves)
        {
            int best = -1;
            for (int l = 0; l < leaves; l++)
            {
                if (_bestGain[l] > 0 && (best < 0 || _bestGain[l] > _bestGain[best]))
                {
                    best = l;
                }
            }

            if (best < 0)
            {
                break;
            }

            Split(best, leaves, options);
            leaves++;
        }

        if (leaves == 1)
        {
            return false;
        }

        double rate = options.LearningRate;
        double lambda = options.L2Regularization;
        for (int l = 0; l < leaves; l++)
        {
            // The stored float is what the model and ONNX add, so training adds exactly that too.
            float value = (float)(-rate * _leafG[l] / (_leafCount[l] + lambda));
            _nodeValue[_leafNode[l]] = value;
            int end = _leafStart[l] + _leafCount[l];
            for (int i = _leafStart[l]; i < end; i++)
            {
                _pred[_rows[i]] += value;
            }
        }

        return true;
    }

    private bool CanSplit(GbdtOptions options, int depth, int count) =>
        count >= 2 * options.MinSamplesLeaf && (options.MaxDepth == 0 || depth < options.MaxDepth);

    private void Split(int leaf, int newLeaf, GbdtOptions options)
    {
        int f = _bestFeature[leaf];
        int bin = _bestBin[leaf];
        int start = _leafStart[leaf];
        int count = _leafCount[leaf];
        var column = _shared.TrainBins.AsSpan(f * _n, _n);

        // Stable partition of the leaf's rows (left keep their order, right follow in theirs): deterministic.
        int nl = 0;
        int nr = 0;
        int end = start + count;
        for (int i = start; i < end; i++)
        {
            int r = _rows[i];
            if (column[r] <= bin)
            {
                _rows[start + nl] = r;
                _gOrd[start + nl] = _gOrd[i];
                nl++;
            }
            else
            {
                _rowsTmp[nr] = r;
                _gTmp[nr] = _gOrd[i];
                nr++;
            }
        }

        System.Diagnostics.Debug.Assert(nl == _bestCL[leaf], "The partition must match the histogram's left count.");
        _rowsTmp.AsSpan(0, nr).CopyTo(_rows.AsSpan(start + nl));
        _gTmp.AsSpan(0, nr).CopyTo(_gOrd.AsSpan(start + nl));

        int parentNode = _leafNode[leaf];
        int leftNode = _nodeCount++;
        int rightNode = _nodeCount++;
        _nodeFeature[parentNode] = f;
        _nodeBin[parentNode] = (byte)bin;
        _nodeLeft[parentNode] = leftNode;
        _nodeRight[parentNode] = rightNode;
        _nodeFeature[leftNode] = -1;
        _nodeFeature[rightNode] = -1;

        double parentG = _leafG[leaf];
        int depth = _leafDepth[leaf] + 1;
        int parentSlot = _leafSlot[leaf];

        _leafStart[leaf] = start;
        _leafCount[leaf] = nl;
        _leafG[leaf] = _bestGL[leaf];
        _leafDepth[leaf] = depth;
        _leafNode[leaf] = leftNode;
        _leafStart[newLeaf] = start + nl;
        _leafCount[newLeaf] = nr;
        _leafG[newLeaf] = parentG - _bestGL[leaf];
        _leafDepth[newLeaf] = depth;
        _leafNode[newLeaf] = rightNode;
        _bestGain[leaf] = double.NegativeInfinity;
        _bestGain[newLeaf] = double.NegativeInfinity;

        bool splitLeft = CanSplit(options, depth, nl);
        bool splitRight = CanSplit(options, depth, nr);
        if (!splitLeft && !splitRight)
        {
            ReleaseSlot(parentSlot);
            _leafSlot[leaf] = -1;
            _leafSlot[newLeaf] = -1;
            return;
        }

        // Build the histogram of the smaller child from its rows; the larger one's is parent − smaller.
        bool leftSmaller = nl <= nr;
        int small = leftSmaller ? leaf : newLeaf;
        int large = leftSmaller ? newLeaf : leaf;
        bool splitSmall = leftSmaller ? splitLeft : splitRight;
        bool splitLarge = leftSmaller ? splitRight : splitLeft;
        int smallSlot = AllocateSlot();
        BuildHistogram(smallSlot, _leafStart[small], _leafCount[small]);
        if (splitLarge)
        {
            SubtractHistogram(parentSlot, smallSlot);
            _leafSlot[large] = parentSlot;
            FindBestSplit(large, options);
        }
        else
        {
            ReleaseSlot(parentSlot);
            _leafSlot[large] = -1;
        }

        if (splitSmall)
        {
            _leafSlot[small] = smallSlot;
            FindBestSplit(small, options);
        }
        else
        {
            ReleaseSlot(smallSlot);
            _leafSlot[small] = -1;
        }
    }

    private int AllocateSlot() => _freeSlots[--_freeCount];

    private void ReleaseSlot(int slot) => _freeSlots[_freeCount++] = slot;

    private void BuildHistogram(int slot, int start, int count)
    {
        var rows = _rows.AsSpan(start, count);
        var grads = _gOrd.AsSpan(start, count);
        var bins = _shared.TrainBins;
        for (int e = 0; e < _eligibleCount; e++)
        {
            int f = _eligible[e];
            int offset = ((slot * _features) + f) * _stride;
            var hist = _hist.AsSpan(offset, _stride);
            hist.Clear();
            var column = bins.AsSpan(f * _n, _n);
            if (count == _n)
            {
                // The root: rows are 0..n−1 in order, so read the column straight.
                for (int i = 0; i < column.Length; i++)
                {
                    ref var bin = ref hist[column[i]];
                    bin.G += grads[i];
                    bin.Count++;
                }
            }
            else
            {
                for (int i = 0; i < rows.Length; i++)
                {
                    ref var bin = ref hist[column[rows[i]]];
                    bin.G += grads[i];
                    bin.Count++;
                }
            }
        }
    }

    private void SubtractHistogram(int parentSlot, int childSlot)
    {
        for (int e = 0; e < _eligibleCount; e++)
        {
            int f = _eligible[e];
            int p = ((parentSlot * _features) + f) * _stride;
            int c = ((childSlot * _features) + f) * _stride;
            var parent = _hist.AsSpan(p, _stride);
            var child = _hist.AsSpan(c, _stride);
            for (int b = 0; b < _stride; b++)
            {
                parent[b].G -= child[b].G;
                parent[b].Count -= child[b].Count;
            }
        }
    }

    private void FindBestSplit(int leaf, GbdtOptions options)
    {
        double lambda = options.L2Regularization;
        int minLeaf = options.MinSamplesLeaf;
        double g = _leafG[leaf];
        int n = _leafCount[leaf];
        double parentScore = g * g / (n + lambda);
        int slot = _leafSlot[leaf];
        double bestGain = double.NegativeInfinity;
        int bestFeature = -1;
        int bestBin = -1;
        double bestGL = 0;
        int bestCL = 0;
        var thresholds = _shared.Binner.Thresholds;
        for (int e = 0; e < _eligibleCount; e++)
        {
            int f = _eligible[e];
            int cuts = thresholds[f].Length;
            int offset = ((slot * _features) + f) * _stride;
            var hist = _hist.AsSpan(offset, _stride);
            double gl = 0;
            int cl = 0;
            for (int b = 0; b < cuts; b++)
            {
                gl += hist[b].G;
                cl += hist[b].Count;
                if (cl < minLeaf)
                {
                    continue;
                }

                int cr = n - cl;
                if (cr < minLeaf)
                {
                    break;
                }

                double gr = g - gl;
                double gain = (gl * gl / (cl + lambda)) + (gr * gr / (cr + lambda)) - parentScore;
                if (gain > bestGain)
                {
                    bestGain = gain;
                    bestFeature = f;
                    bestBin = b;
                    bestGL = gl;
                    bestCL = cl;
                }
            }
        }

        _bestGain[leaf] = bestGain;
        _bestFeature[leaf] = bestFeature;
        _bestBin[leaf] = bestBin;
        _bestGL[leaf] = bestGL;
        _bestCL[leaf] = bestCL;
    }

    /// <summary>Adds the tree just grown to the validation predictions; returns their squared-error sum.</summary>
    private double UpdateValidation()
    {
        var bins = _shared.ValidationBins;
        double loss = 0;
        for (int i = 0; i < _nVal; i++)
        {
            int node = 0;
            while (_nodeFeature[node] >= 0)
            {
                node = bins[(_nodeFeature[node] * _nVal) + i] <= _nodeBin[node] ? _nodeLeft[node] : _nodeRight[node];
            }

            _predVal[i] += _nodeValue[node];
            double e = _predVal[i] - _yVal[i];
            loss += e * e;
        }

        return loss;
    }
}

/// <summary>One histogram bin: the gradient sum and the row count (the hessian sum, as h = 1) of its rows.</summary>
internal struct HistogramBin
{
    public double G;
    public int Count;
}
