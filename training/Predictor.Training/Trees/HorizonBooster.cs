namespace Predictor.Training.Trees;

/// <summary>
/// Boosts an ensemble whose trees fit K outputs at once: K = 1 for the ensemble of one horizon step
/// (<see cref="GbdtTreeLayout.PerStep"/>; one booster per thread, reused for every step it is given), K = H for the
/// shared multi-output trees of all steps (<see cref="GbdtTreeLayout.Shared"/>). Squared loss: gradient
/// g_k = prediction_k − target_k, hessian 1, so a leaf's Newton value for output k is −G_k / (n + λ) and a split's
/// gain is Σ_k c_k [G_Lk²/(n_L + λ) + G_Rk²/(n_R + λ) − G_k²/(n + λ)] (the constant ½ dropped; c_k = 1, or 1 / output
/// k's round-0 mean squared residual with <see cref="GbdtOptions.EqualizeStepGains"/>; with K = 1, c = 1 and the
/// single-output gain, the same value as before the weights existed: multiplying by 1 is exact). Early stopping is per output, with the rules of a
/// one-output ensemble: trees are grown while any output's validation error still improves within the patience; an
/// output whose patience has run out leaves the gradients, and its values in the trees after its best round are
/// zeroed. With <c>threads</c> &gt; 1 the histograms and the split search of a node are spread over threads by feature
/// (contiguous chunks of the eligible features, one writer per feature's histogram; each chunk's best split is found
/// in feature order and the chunks' bests are compared in chunk order with the same strict "greater than"), so every
/// number is computed by the same operations in the same order as on one thread: results never depend on the thread
/// count or on scheduling.
/// With <see cref="GbdtLoss.AbsoluteError"/> (LAD_TreeBoost, Friedman 2001): base values are the targets' medians,
/// g_k = sign(prediction_k − target_k) with hessian 1 in the same split gain (c_k = 1), each leaf's value for output k
/// is η × the median of its rows' residuals target_k − prediction_k (0 for an output that has stopped), and early
/// stopping reads the validation absolute-error sums.
/// </summary>
internal sealed class HorizonBooster
{
    private readonly SharedData _shared;
    private readonly int _outputs;
    private readonly int _cell;
    private readonly int _n;
    private readonly int _nVal;
    private readonly int _features;
    private readonly int _stride;
    private readonly int _maxLeaves;
    private readonly bool _absolute;

    // Per training row (indexed by row) and per position in the leaf-ordered row permutation; K values per row
    // (row-major) for the targets, predictions and gradients.
    private readonly double[] _y;
    private readonly double[] _pred;
    private readonly double[] _g;
    private readonly int[] _rows;
    private readonly int[] _rowsTmp;
    private readonly double[] _gOrd;
    private readonly double[] _gTmp;
    private readonly double[] _yVal;
    private readonly double[] _predVal;
    private readonly double[] _valLoss;

    // Outputs whose early-stopping patience (or fixed round count) has run out; scratch for medians (absolute loss).
    private readonly bool[] _stopped;
    private readonly double[] _scratch;

    // c_k, the weight of output k's term in a split's gain (1 unless GbdtOptions.EqualizeStepGains weights the steps).
    private readonly double[] _gainWeight;

    // Histogram slots, [slot, feature, bin, K + 1]: the K gradient sums then the row count side by side (one cache
    // line per update for K = 1; the count is a double, exact for any row count); a free-list of slots.
    private readonly double[] _hist;
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

    // Feature-parallel work: chunk p covers eligible features [_chunkStart[p], _chunkStart[p + 1]). Per chunk, the scan's
    // running G_L; per chunk and role (the two children of a split are searched in the same pass: role 0 the larger,
    // role 1 the smaller; the root is role 0), the chunk's best split, at index (role × _maxChunks) + chunk.
    private readonly int _maxChunks;
    private readonly int[] _chunkStart;
    private int _chunks;
    private readonly double[][] _chunkScanGL;
    private readonly double[][] _chunkBestGL;
    private readonly double[] _chunkBestGain;
    private readonly int[] _chunkBestFeature;
    private readonly int[] _chunkBestBin;
    private readonly int[] _chunkBestCL;
    private readonly ParallelOptions _parallel;

    /// <summary>Below this many histogram cell updates a node's work stays on one thread (a parallel loop costs a few µs).</summary>
    internal const long MinParallelCells = 100_000;

    /// <param name="shared">The data and options of the fit.</param>
    /// <param name="outputs">K, outputs per leaf: 1 (one horizon step per ensemble) or H (all steps).</param>
    /// <param name="threads">Threads a node's histograms and split search may use (1: all on the caller's thread).</param>
    public HorizonBooster(SharedData shared, int outputs, int threads = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        _shared = shared;
        _outputs = outputs;
        _cell = outputs + 1;
        _n = shared.Train;
        _nVal = shared.Validation;
        _features = shared.Binner.FeatureCount;
        _stride = shared.Binner.MaxBinCount;
        _maxLeaves = shared.Options.MaxLeaves;
        _absolute = shared.Options.Loss == GbdtLoss.AbsoluteError;
        _y = new double[_n * outputs];
        _pred = new double[_n * outputs];
        _g = new double[_n * outputs];
        _rows = new int[_n];
        _rowsTmp = new int[_n];
        _gOrd = new double[_n * outputs];
        _gTmp = new double[_n * outputs];
        _yVal = new double[_nVal * outputs];
        _predVal = new double[_nVal * outputs];
        _valLoss = new double[outputs];
        _stopped = new bool[outputs];
        _scratch = new double[_absolute ? _n : 0];
        _gainWeight = new double[outputs];
        _hist = new double[_maxLeaves * _features * _stride * _cell];
        _freeSlots = new int[_maxLeaves];
        _leafStart = new int[_maxLeaves];
        _leafCount = new int[_maxLeaves];
        _leafG = new double[_maxLeaves * outputs];
        _leafDepth = new int[_maxLeaves];
        _leafSlot = new int[_maxLeaves];
        _leafNode = new int[_maxLeaves];
        _bestGain = new double[_maxLeaves];
        _bestFeature = new int[_maxLeaves];
        _bestBin = new int[_maxLeaves];
        _bestGL = new double[_maxLeaves * outputs];
        _bestCL = new int[_maxLeaves];
        int maxNodes = (2 * _maxLeaves) - 1;
        _nodeFeature = new int[maxNodes];
        _nodeBin = new byte[maxNodes];
        _nodeLeft = new int[maxNodes];
        _nodeRight = new int[maxNodes];
        _nodeValue = new float[maxNodes * outputs];
        _eligible = new int[_features];
        // Four chunks a thread: the features' scans differ in cost (a calendar feature has a few bins, a lag 255), and
        // the loop hands chunks to whichever thread is free.
        _maxChunks = threads == 1 ? 1 : Math.Min(4 * threads, Math.Max(1, _features));
        _chunkStart = new int[_maxChunks + 1];
        _chunkScanGL = new double[_maxChunks][];
        _chunkBestGL = new double[2 * _maxChunks][];
        for (int p = 0; p < _maxChunks; p++)
        {
            _chunkScanGL[p] = new double[outputs];
        }

        for (int p = 0; p < 2 * _maxChunks; p++)
        {
            _chunkBestGL[p] = new double[outputs];
        }

        _chunkBestGain = new double[2 * _maxChunks];
        _chunkBestFeature = new int[2 * _maxChunks];
        _chunkBestBin = new int[2 * _maxChunks];
        _chunkBestCL = new int[2 * _maxChunks];
        _parallel = new ParallelOptions { MaxDegreeOfParallelism = threads };
    }

    /// <summary>Cuts the eligible features into contiguous chunks of about equal count (after every <see cref="ChooseFeatures"/>).</summary>
    private void SetChunks()
    {
        _chunks = Math.Max(1, Math.Min(_maxChunks, _eligibleCount));
        for (int p = 0; p <= _chunks; p++)
        {
            _chunkStart[p] = (int)((long)_eligibleCount * p / _chunks);
        }
    }

    /// <summary>Runs <paramref name="body"/> for every chunk: on threads when <paramref name="cells"/> is worth it, else in order here.</summary>
    private void ForEachChunk(long cells, Action<int> body)
    {
        if (_chunks == 1 || cells < MinParallelCells)
        {
            for (int p = 0; p < _chunks; p++)
            {
                body(p);
            }

            return;
        }

        Parallel.For(0, _chunks, _parallel, body);
    }

    /// <summary>Fits the trees of horizon steps <paramref name="firstStep"/> … <paramref name="firstStep"/> + K − 1.</summary>
    public HorizonTrees Boost(int firstStep)
    {
        var options = _shared.Options;
        int k0 = firstStep;
        int outputs = _outputs;
        var baseValues = new float[outputs];
        ReadTargets(0, _n, k0, _y);
        for (int k = 0; k < outputs; k++)
        {
            if (_absolute)
            {
                for (int r = 0; r < _n; r++)
                {
                    _scratch[r] = _y[(r * outputs) + k];
                }

                baseValues[k] = (float)Median(_scratch.AsSpan(0, _n));
                continue;
            }

            double sum = 0;
            for (int r = 0; r < _n; r++)
            {
                sum += _y[(r * outputs) + k];
            }

            baseValues[k] = (float)(sum / _n);
        }

        for (int j = 0; j < _pred.Length; j++)
        {
            _pred[j] = baseValues[j % outputs];
        }

        SetGainWeights(baseValues);

        ReadTargets(_shared.Data.Rows - _nVal, _nVal, k0, _yVal);
        var bestLoss = new double[outputs];
        for (int i = 0; i < _nVal; i++)
        {
            for (int k = 0; k < outputs; k++)
            {
                int j = (i * outputs) + k;
                _predVal[j] = baseValues[k];
                double e = _predVal[j] - _yVal[j];
                bestLoss[k] += _absolute ? Math.Abs(e) : e * e;
            }
        }

        var outFeature = new List<int>();
        var outBin = new List<byte>();
        var outLeft = new List<int>();
        var outRight = new List<int>();
        var outValue = new List<float>();
        var treeStart = new List<int>();

        // Early stopping per output, as if each had its own ensemble: output k's best round (trees kept for it) and
        // whether its patience has run out; the ensemble grows while any output still runs.
        var bestTrees = new int[outputs];
        var stopped = _stopped;
        Array.Clear(stopped);
        int running = outputs;
        var rng = new Random(unchecked((options.Seed * 1_000_003) + k0));
        var fixedRounds = options.TreesPerStep;
        for (int it = 0; it < options.MaxIterations; it++)
        {
            if (fixedRounds is not null)
            {
                // Fixed rounds: an output that has its count leaves the gradients, as one whose patience ran out.
                for (int k = 0; k < outputs; k++)
                {
                    if (!stopped[k] && treeStart.Count >= fixedRounds[k0 + k])
                    {
                        stopped[k] = true;
                        running--;
                    }
                }

                if (running == 0)
                {
                    break;
                }
            }

            for (int j = 0; j < _g.Length; j++)
            {
                double e = _pred[j] - _y[j];
                _g[j] = _absolute ? Math.Sign(e) : e;
            }

            // An output whose patience has run out is left out: gradient 0, so it adds nothing to a split's gain and
            // its leaf values are 0; the later trees fit the outputs that still improve.
            if (running < outputs)
            {
                for (int j = 0; j < _g.Length; j++)
                {
                    if (stopped[j % outputs])
                    {
                        _g[j] = 0;
                    }
                }
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
                for (int k = 0; k < outputs; k++)
                {
                    outValue.Add(_nodeValue[(i * outputs) + k]);
                }
            }

            if (_nVal == 0)
            {
                for (int k = 0; k < outputs; k++)
                {
                    if (!stopped[k])
                    {
                        bestTrees[k] = treeStart.Count;
                    }
                }

                continue;
            }

            UpdateValidation();
            for (int k = 0; k < outputs; k++)
            {
                if (stopped[k])
                {
                    continue;
                }

                if (_valLoss[k] < bestLoss[k] - (options.EarlyStoppingTolerance * bestLoss[k]))
                {
                    bestLoss[k] = _valLoss[k];
                    bestTrees[k] = treeStart.Count;
                }
                else if (treeStart.Count - bestTrees[k] >= options.EarlyStoppingRounds)
                {
                    stopped[k] = true;
                    running--;
                }
            }

            if (running == 0)
            {
                break;
            }
        }

        // Keep the trees up to the latest best round; output k's values in the trees after its own best round are
        // zeroed, so its prediction is the sum of its first bestTrees[k] trees.
        int kept = bestTrees.Max();
        int nodes = kept < treeStart.Count ? treeStart[kept] : outFeature.Count;
        var value = outValue.GetRange(0, nodes * outputs).ToArray();
        for (int k = 0; k < outputs; k++)
        {
            int from = bestTrees[k] < kept ? treeStart[bestTrees[k]] : nodes;
            for (int i = from; i < nodes; i++)
            {
                value[(i * outputs) + k] = 0f;
            }
        }

        return new HorizonTrees
        {
            BaseValues = baseValues,
            TreeCount = kept,
            TreesPerOutput = bestTrees,
            NodeCount = nodes,
            TreeStart = [.. treeStart.GetRange(0, kept)],
            Feature = [.. outFeature.GetRange(0, nodes)],
            Bin = [.. outBin.GetRange(0, nodes)],
            Left = [.. outLeft.GetRange(0, nodes)],
            Right = [.. outRight.GetRange(0, nodes)],
            Value = value,
        };
    }

    /// <summary>
    /// Writes the K targets of rows <paramref name="first"/> … + <paramref name="count"/> − 1, steps
    /// <paramref name="firstStep"/> …, row-major, as differences from x(t) when the trees predict differences.
    /// </summary>
    private void ReadTargets(int first, int count, int firstStep, double[] into)
    {
        var data = _shared.Data;
        int width = data.FeatureWidth;
        int horizon = data.Horizon;
        int last = _shared.Window - 1;
        bool difference = _shared.Options.PredictDifference;
        for (int i = 0; i < count; i++)
        {
            int r = first + i;
            double from = difference ? data.Features[(r * width) + last] : 0.0;
            for (int k = 0; k < _outputs; k++)
            {
                into[(i * _outputs) + k] = data.Targets[(r * horizon) + firstStep + k] - from;
            }
        }
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
            SetChunks();
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
        SetChunks();
    }

    /// <summary>Grows one tree best-first; false when the root has no split worth making (nothing is added).</summary>
    private bool GrowTree(GbdtOptions options)
    {
        for (int i = 0; i < _maxLeaves; i++)
        {
            _freeSlots[i] = _maxLeaves - 1 - i;
        }

        _freeCount = _maxLeaves;
        int outputs = _outputs;
        var rootG = _leafG.AsSpan(0, outputs);
        rootG.Clear();
        _g.AsSpan().CopyTo(_gOrd);
        for (int i = 0; i < _n; i++)
        {
            _rows[i] = i;
            for (int k = 0; k < outputs; k++)
            {
                rootG[k] += _g[(i * outputs) + k];
            }
        }

        _nodeCount = 1;
        _nodeFeature[0] = -1;
        int leaves = 1;
        _leafStart[0] = 0;
        _leafCount[0] = _n;
        _leafDepth[0] = 0;
        _leafNode[0] = 0;
        _leafSlot[0] = AllocateSlot();
        _bestGain[0] = double.NegativeInfinity;
        if (CanSplit(options, 0, _n))
        {
            int rootSlot = _leafSlot[0];
            ForEachChunk(
                ((long)_n * _eligibleCount * _cell) + ((long)_eligibleCount * _stride * _cell),
                p =>
                {
                    BuildHistogram(rootSlot, 0, _n, _chunkStart[p], _chunkStart[p + 1]);
                    ScanChunk(0, options, p, role: 0);
                });
            TakeBest(0, role: 0);
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
            int end = _leafStart[l] + _leafCount[l];
            for (int k = 0; k < outputs; k++)
            {
                // The stored float is what the model and ONNX add, so training adds exactly that too.
                float value = !_absolute ? (float)(-rate * _leafG[(l * outputs) + k] / (_leafCount[l] + lambda))
                    : _stopped[k] ? 0f
                    : (float)(rate * LeafMedianResidual(l, k));
                _nodeValue[(_leafNode[l] * outputs) + k] = value;
                for (int i = _leafStart[l]; i < end; i++)
                {
                    _pred[(_rows[i] * outputs) + k] += value;
                }
            }
        }

        return true;
    }

    /// <summary>The median of target − prediction over leaf <paramref name="leaf"/>'s rows, for output <paramref name="k"/>.</summary>
    private double LeafMedianResidual(int leaf, int k)
    {
        int start = _leafStart[leaf];
        int count = _leafCount[leaf];
        var residuals = _scratch.AsSpan(0, count);
        for (int i = 0; i < count; i++)
        {
            int j = (_rows[start + i] * _outputs) + k;
            residuals[i] = _y[j] - _pred[j];
        }

        return Median(residuals);
    }

    /// <summary>
    /// The median of <paramref name="values"/> (the mean of the two middle values for an even count), found by
    /// quickselect in O(n) on average; reorders the span. Deterministic: the same values in the same order give the
    /// same result and the same order.
    /// </summary>
    internal static double Median(Span<double> values)
    {
        int n = values.Length;
        int mid = (n - 1) / 2;
        SelectInPlace(values, mid);
        double lower = values[mid];
        if ((n & 1) == 1)
        {
            return lower;
        }

        // Everything after the lower middle is ≥ it; the upper middle is the least of them.
        double upper = values[mid + 1];
        for (int i = mid + 2; i < n; i++)
        {
            if (values[i] < upper)
            {
                upper = values[i];
            }
        }

        return (lower + upper) / 2;
    }

    /// <summary>Reorders <paramref name="a"/> so that a[k] holds the value it would hold sorted, with nothing greater
    /// before it and nothing smaller after it (Hoare partitioning, median-of-three pivot).</summary>
    private static void SelectInPlace(Span<double> a, int k)
    {
        int lo = 0;
        int hi = a.Length - 1;
        while (lo < hi)
        {
            int m = lo + ((hi - lo) >> 1);
            if (a[m] < a[lo])
            {
                (a[m], a[lo]) = (a[lo], a[m]);
            }

            if (a[hi] < a[lo])
            {
                (a[hi], a[lo]) = (a[lo], a[hi]);
            }

            if (a[hi] < a[m])
            {
                (a[hi], a[m]) = (a[m], a[hi]);
            }

            double pivot = a[m];
            int i = lo;
            int j = hi;
            while (i <= j)
            {
                while (a[i] < pivot)
                {
                    i++;
                }

                while (a[j] > pivot)
                {
                    j--;
                }

                if (i <= j)
                {
                    (a[i], a[j]) = (a[j], a[i]);
                    i++;
                    j--;
                }
            }

            // a[lo..j] ≤ pivot ≤ a[i..hi], and every value strictly between j and i equals the pivot.
            if (k <= j)
            {
                hi = j;
            }
            else if (k >= i)
            {
                lo = i;
            }
            else
            {
                return;
            }
        }
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
        int outputs = _outputs;
        int nl = 0;
        int nr = 0;
        int end = start + count;
        for (int i = start; i < end; i++)
        {
            int r = _rows[i];
            var g = _gOrd.AsSpan(i * outputs, outputs);
            if (column[r] <= bin)
            {
                _rows[start + nl] = r;
                g.CopyTo(_gOrd.AsSpan((start + nl) * outputs, outputs));
                nl++;
            }
            else
            {
                _rowsTmp[nr] = r;
                g.CopyTo(_gTmp.AsSpan(nr * outputs, outputs));
                nr++;
            }
        }

        System.Diagnostics.Debug.Assert(nl == _bestCL[leaf], "The partition must match the histogram's left count.");
        _rowsTmp.AsSpan(0, nr).CopyTo(_rows.AsSpan(start + nl));
        _gTmp.AsSpan(0, nr * outputs).CopyTo(_gOrd.AsSpan((start + nl) * outputs));

        int parentNode = _leafNode[leaf];
        int leftNode = _nodeCount++;
        int rightNode = _nodeCount++;
        _nodeFeature[parentNode] = f;
        _nodeBin[parentNode] = (byte)bin;
        _nodeLeft[parentNode] = leftNode;
        _nodeRight[parentNode] = rightNode;
        _nodeFeature[leftNode] = -1;
        _nodeFeature[rightNode] = -1;

        int depth = _leafDepth[leaf] + 1;
        int parentSlot = _leafSlot[leaf];
        var leftG = _leafG.AsSpan(leaf * outputs, outputs);
        var rightG = _leafG.AsSpan(newLeaf * outputs, outputs);
        var bestGL = _bestGL.AsSpan(leaf * outputs, outputs);
        for (int k = 0; k < outputs; k++)
        {
            rightG[k] = leftG[k] - bestGL[k];
            leftG[k] = bestGL[k];
        }

        _leafStart[leaf] = start;
        _leafCount[leaf] = nl;
        _leafDepth[leaf] = depth;
        _leafNode[leaf] = leftNode;
        _leafStart[newLeaf] = start + nl;
        _leafCount[newLeaf] = nr;
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
        int smallStart = _leafStart[small];
        int smallCount = _leafCount[small];
        _leafSlot[large] = splitLarge ? parentSlot : -1;
        _leafSlot[small] = splitSmall ? smallSlot : -1;

        // One pass per chunk of features: the smaller child's histograms from its rows, the larger's by subtraction,
        // and both children's best splits.
        long scan = (long)_eligibleCount * _stride * _cell;
        ForEachChunk(
            ((long)smallCount * _eligibleCount * _cell) + (splitLarge ? 2 * scan : 0) + (splitSmall ? scan : 0),
            p =>
            {
                int from = _chunkStart[p];
                int to = _chunkStart[p + 1];
                BuildHistogram(smallSlot, smallStart, smallCount, from, to);
                if (splitLarge)
                {
                    SubtractHistogram(parentSlot, smallSlot, from, to);
                    ScanChunk(large, options, p, role: 0);
                }

                if (splitSmall)
                {
                    ScanChunk(small, options, p, role: 1);
                }
            });

        if (splitLarge)
        {
            TakeBest(large, role: 0);
        }
        else
        {
            ReleaseSlot(parentSlot);
        }

        if (splitSmall)
        {
            TakeBest(small, role: 1);
        }
        else
        {
            ReleaseSlot(smallSlot);
        }
    }

    private int AllocateSlot() => _freeSlots[--_freeCount];

    private void ReleaseSlot(int slot) => _freeSlots[_freeCount++] = slot;

    /// <summary>The histograms of eligible features [<paramref name="from"/>, <paramref name="to"/>) over a node's rows.</summary>
    private void BuildHistogram(int slot, int start, int count, int from, int to)
    {
        var rows = _rows.AsSpan(start, count);
        var grads = _gOrd.AsSpan(start * _outputs, count * _outputs);
        var bins = _shared.TrainBins;
        int outputs = _outputs;
        int cell = _cell;
        for (int e = from; e < to; e++)
        {
            int f = _eligible[e];
            var hist = _hist.AsSpan(HistogramOffset(slot, f), _stride * cell);
            hist.Clear();
            var column = bins.AsSpan(f * _n, _n);
            bool root = count == _n; // the root's rows are 0..n−1 in order, so the column is read straight
            if (outputs == 1)
            {
                // One output (a horizon step of its own): gradient and count side by side.
                for (int i = 0; i < rows.Length; i++)
                {
                    int o = 2 * column[root ? i : rows[i]];
                    hist[o] += grads[i];
                    hist[o + 1] += 1;
                }
            }
            else
            {
                for (int i = 0; i < rows.Length; i++)
                {
                    var bin = hist.Slice(cell * column[root ? i : rows[i]], cell);
                    var g = grads.Slice(i * outputs, outputs);
                    for (int k = 0; k < g.Length; k++)
                    {
                        bin[k] += g[k];
                    }

                    bin[outputs] += 1;
                }
            }
        }
    }

    private int HistogramOffset(int slot, int feature) => ((slot * _features) + feature) * _stride * _cell;

    private void SubtractHistogram(int parentSlot, int childSlot, int from, int to)
    {
        for (int e = from; e < to; e++)
        {
            int f = _eligible[e];
            var parent = _hist.AsSpan(HistogramOffset(parentSlot, f), _stride * _cell);
            var child = _hist.AsSpan(HistogramOffset(childSlot, f), _stride * _cell);
            for (int b = 0; b < parent.Length; b++)
            {
                parent[b] -= child[b];
            }
        }
    }

    /// <summary>
    /// A leaf's best split over every eligible feature, from the chunks' bests of <paramref name="role"/>: compared in chunk
    /// order, replacing only on a strictly greater gain (as each chunk's scan does in feature order), so the first feature
    /// and bin of the largest gain win, as in one pass over all features.
    /// </summary>
    private void TakeBest(int leaf, int role)
    {
        int first = role * _maxChunks;
        double bestGain = double.NegativeInfinity;
        int best = -1;
        for (int i = first; i < first + _chunks; i++)
        {
            if (_chunkBestGain[i] > bestGain)
            {
                bestGain = _chunkBestGain[i];
                best = i;
            }
        }

        _bestGain[leaf] = bestGain;
        _bestFeature[leaf] = best < 0 ? -1 : _chunkBestFeature[best];
        _bestBin[leaf] = best < 0 ? -1 : _chunkBestBin[best];
        _bestCL[leaf] = best < 0 ? 0 : _chunkBestCL[best];
        if (best >= 0)
        {
            _chunkBestGL[best].CopyTo(_bestGL.AsSpan(leaf * _outputs, _outputs));
        }
    }

    /// <summary>The best split of a leaf over chunk <paramref name="chunk"/>'s features, into the chunk's slots of <paramref name="role"/>.</summary>
    private void ScanChunk(int leaf, GbdtOptions options, int chunk, int role)
    {
        double lambda = options.L2Regularization;
        int minLeaf = options.MinSamplesLeaf;
        int outputs = _outputs;
        int cell = _cell;
        var g = _leafG.AsSpan(leaf * outputs, outputs);
        int n = _leafCount[leaf];
        double parentScore = WeightedSumOfSquares(g) / (n + lambda);
        int slot = _leafSlot[leaf];
        double bestGain = double.NegativeInfinity;
        int bestFeature = -1;
        int bestBin = -1;
        int bestCL = 0;
        int at = (role * _maxChunks) + chunk;
        var bestGL = _chunkBestGL[at].AsSpan();
        var gl = _chunkScanGL[chunk].AsSpan();
        var thresholds = _shared.Binner.Thresholds;
        for (int e = _chunkStart[chunk]; e < _chunkStart[chunk + 1]; e++)
        {
            int f = _eligible[e];
            int cuts = thresholds[f].Length;
            var hist = _hist.AsSpan(HistogramOffset(slot, f), _stride * cell);
            gl.Clear();
            int cl = 0;
            for (int b = 0; b < cuts; b++)
            {
                var bin = hist.Slice(b * cell, cell);
                for (int k = 0; k < outputs; k++)
                {
                    gl[k] += bin[k];
                }

                cl += (int)bin[outputs];
                if (cl < minLeaf)
                {
                    continue;
                }

                int cr = n - cl;
                if (cr < minLeaf)
                {
                    break;
                }

                // Σ_k G_Lk² and Σ_k G_Rk²: with one output, exactly gl·gl and gr·gr.
                double left = 0;
                double right = 0;
                for (int k = 0; k < outputs; k++)
                {
                    double gr = g[k] - gl[k];
                    double c = _gainWeight[k];
                    left += c * gl[k] * gl[k];
                    right += c * gr * gr;
                }

                double gain = (left / (cl + lambda)) + (right / (cr + lambda)) - parentScore;
                if (gain > bestGain)
                {
                    bestGain = gain;
                    bestFeature = f;
                    bestBin = b;
                    gl.CopyTo(bestGL);
                    bestCL = cl;
                }
            }
        }

        _chunkBestGain[at] = bestGain;
        _chunkBestFeature[at] = bestFeature;
        _chunkBestBin[at] = bestBin;
        _chunkBestCL[at] = bestCL;
    }

    private double WeightedSumOfSquares(ReadOnlySpan<double> values)
    {
        double sum = 0;
        for (int k = 0; k < values.Length; k++)
        {
            sum += _gainWeight[k] * values[k] * values[k];
        }

        return sum;
    }

    /// <summary>
    /// Sets c_k, output k's weight in a split's gain: 1, or with <see cref="GbdtOptions.EqualizeStepGains"/> and more
    /// than one output under squared loss, 1 / (output k's mean squared residual at round 0), its targets' variance
    /// about their mean (absolute loss: 1, its sign gradients are alike at every step).
    /// Why: with differences as targets, step k's residuals grow with k (the far steps carry the most unexplained
    /// movement), so an unweighted Σ_k gain is decided by the far steps' noise; divided by its own variance, each
    /// step's term is the share of its variance a split explains, and every step counts alike whatever its scale.
    /// Scaling one step's targets by a constant then leaves every split unchanged. Leaf values are not weighted.
    /// </summary>
    private void SetGainWeights(float[] baseValues)
    {
        Array.Fill(_gainWeight, 1.0);
        if (_outputs == 1 || !_shared.Options.EqualizeStepGains || _absolute)
        {
            return;
        }

        for (int k = 0; k < _outputs; k++)
        {
            double sum = 0;
            for (int r = 0; r < _n; r++)
            {
                double e = _y[(r * _outputs) + k] - baseValues[k];
                sum += e * e;
            }

            // A step whose targets are all equal has nothing to explain; weight 1 keeps its (zero) gradients harmless.
            double mse = sum / _n;
            _gainWeight[k] = mse > 0 ? 1.0 / mse : 1.0;
        }
    }

    /// <summary>Adds the tree just grown to the validation predictions; writes each output's squared-error sum (absolute
    /// loss: absolute-error sum) to <see cref="_valLoss"/>.</summary>
    private void UpdateValidation()
    {
        var bins = _shared.ValidationBins;
        var loss = _valLoss;
        Array.Clear(loss);
        for (int i = 0; i < _nVal; i++)
        {
            int node = 0;
            while (_nodeFeature[node] >= 0)
            {
                node = bins[(_nodeFeature[node] * _nVal) + i] <= _nodeBin[node] ? _nodeLeft[node] : _nodeRight[node];
            }

            for (int k = 0; k < _outputs; k++)
            {
                int j = (i * _outputs) + k;
                _predVal[j] += _nodeValue[(node * _outputs) + k];
                double e = _predVal[j] - _yVal[j];
                loss[k] += _absolute ? Math.Abs(e) : e * e;
            }
        }
    }
}
