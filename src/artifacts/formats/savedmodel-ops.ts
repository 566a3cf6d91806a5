/**
 * TensorFlow ops considered safe in a SavedModel graph: pure math, array, control-flow, variable and
 * resource ops that touch no file, process or network. Anything else is reported (allowlist first);
 * the dangerous classes are listed in savedmodel.ts. Grouped by TensorFlow's op families.
 */
const GROUPS = [
  // graph plumbing and control flow
  'Const Placeholder PlaceholderWithDefault Identity IdentityN NoOp StopGradient PreventGradient Snapshot CheckNumerics CheckNumericsV2',
  'Enter Exit Merge Switch NextIteration LoopCond ControlTrigger RefEnter RefExit RefMerge RefSwitch RefNextIteration RefIdentity',
  'If StatelessIf While StatelessWhile Case StatelessCase PartitionedCall StatefulPartitionedCall For SymbolicGradient',
  'Assert Print StringFormat OptionalFromValue OptionalGetValue OptionalHasValue OptionalNone',
  'TensorListFromTensor TensorListGetItem TensorListSetItem TensorListReserve TensorListStack TensorListPushBack TensorListPopBack TensorListLength TensorListElementShape TensorListConcatV2 TensorListSplit TensorListGather TensorListScatterIntoExistingList TensorListResize',
  'TensorArrayV3 TensorArrayReadV3 TensorArrayWriteV3 TensorArrayGatherV3 TensorArrayScatterV3 TensorArraySizeV3 TensorArrayCloseV3 TensorArrayConcatV3 TensorArraySplitV3 TensorArrayGradV3',
  // variables and resources
  'VarHandleOp ReadVariableOp AssignVariableOp AssignAddVariableOp AssignSubVariableOp VarIsInitializedOp DestroyResourceOp ResourceGather ResourceGatherNd ResourceScatterUpdate ResourceScatterAdd ResourceScatterSub ResourceScatterNdUpdate ResourceScatterNdAdd',
  'Variable VariableV2 Assign AssignAdd AssignSub IsVariableInitialized TemporaryVariable DestroyTemporaryVariable ScatterUpdate ScatterAdd ScatterSub ScatterNdUpdate ScatterNdAdd',
  'HashTable HashTableV2 MutableHashTable MutableHashTableV2 MutableDenseHashTableV2 MutableHashTableOfTensorsV2 LookupTableFind LookupTableFindV2 LookupTableInsertV2 LookupTableImportV2 LookupTableExportV2 LookupTableSizeV2 LookupTableRemoveV2 InitializeTable InitializeTableV2 AnonymousHashTable',
  'ResourceApplyAdam ResourceApplyGradientDescent ResourceApplyMomentum ResourceApplyKerasMomentum ResourceApplyRMSProp ResourceApplyAdagrad ResourceApplyAdagradV2 ResourceApplyAdadelta ResourceApplyFtrl ResourceApplyFtrlV2 ApplyAdam ApplyGradientDescent ApplyMomentum',
  // math
  'Add AddV2 AddN Sub Mul MulNoNan Div DivNoNan RealDiv FloorDiv FloorMod TruncateDiv TruncateMod Mod Neg Abs Sign Square Sqrt Rsqrt Reciprocal Inv Pow Exp Expm1 Log Log1p Softplus Softsign',
  'Maximum Minimum Equal NotEqual Less LessEqual Greater GreaterEqual LogicalAnd LogicalOr LogicalNot Select SelectV2 Where ApproximateEqual IsNan IsInf IsFinite ClipByValue',
  'Sin Cos Tan Asin Acos Atan Atan2 Sinh Cosh Tanh Asinh Acosh Atanh Erf Erfc Erfinv Lgamma Digamma Igamma Igammac Betainc Round Rint Floor Ceil SquaredDifference Xlogy Xdivy Xlog1py',
  'MatMul BatchMatMul BatchMatMulV2 BatchMatMulV3 SparseMatMul Einsum Sum Prod Mean Max Min All Any ArgMax ArgMin Cumsum Cumprod CumulativeLogsumexp EuclideanNorm SegmentSum SegmentMean SegmentMax SegmentMin UnsortedSegmentSum UnsortedSegmentMax UnsortedSegmentMin UnsortedSegmentProd',
  'Cast Bitcast BitwiseAnd BitwiseOr BitwiseXor Invert LeftShift RightShift PopulationCount Complex Real Imag Angle Conj ComplexAbs FFT IFFT RFFT IRFFT FFT2D IFFT2D RFFT2D IRFFT2D',
  'MatrixInverse MatrixDeterminant MatrixSolve MatrixTriangularSolve Cholesky Qr Svd SelfAdjointEigV2 MatrixBandPart MatrixDiag MatrixDiagV2 MatrixDiagV3 MatrixDiagPart MatrixDiagPartV2 MatrixDiagPartV3 MatrixSetDiag MatrixSetDiagV2 MatrixSetDiagV3 LogMatrixDeterminant',
  // arrays
  'Shape ShapeN Size Rank Reshape Squeeze ExpandDims Transpose ConjugateTranspose Pack Unpack Concat ConcatV2 ConcatOffset Split SplitV Slice StridedSlice StridedSliceGrad StridedSliceAssign ResourceStridedSliceAssign Tile Pad PadV2 MirrorPad Fill ZerosLike OnesLike Range LinSpace',
  'Gather GatherV2 GatherNd ScatterNd TensorScatterUpdate TensorScatterAdd TensorScatterSub TensorScatterMax TensorScatterMin OneHot Reverse ReverseV2 ReverseSequence BroadcastTo BroadcastArgs BroadcastGradientArgs Unique UniqueV2 UniqueWithCounts ListDiff SetSize InvertPermutation',
  'TopKV2 TopK InTopK InTopKV2 NonMaxSuppression NonMaxSuppressionV2 NonMaxSuppressionV3 NonMaxSuppressionV4 NonMaxSuppressionV5 CombinedNonMaxSuppression SpaceToBatchND BatchToSpaceND SpaceToDepth DepthToSpace ExtractImagePatches ClipByValue DynamicPartition DynamicStitch ParallelDynamicStitch',
  'Bucketize Diag DiagPart EmptyTensorList Empty DeepCopy InplaceUpdate InplaceAdd InplaceSub MatrixBandPart Roll Bincount DenseBincount HistogramFixedWidth SearchSorted LowerBound UpperBound UnravelIndex EnsureShape Cross',
  // nn
  'Relu Relu6 Elu Selu LeakyRelu Sigmoid Softmax LogSoftmax BiasAdd BiasAddV1 Conv2D Conv3D Conv2DBackpropInput Conv3DBackpropInputV2 DepthwiseConv2dNative Conv1D MaxPool MaxPoolV2 MaxPool3D AvgPool AvgPool3D MaxPoolWithArgmax FusedBatchNorm FusedBatchNormV2 FusedBatchNormV3 LRN L2Loss',
  'SoftmaxCrossEntropyWithLogits SparseSoftmaxCrossEntropyWithLogits Dilation2D FractionalMaxPool FractionalAvgPool CudnnRNN CudnnRNNV2 CudnnRNNV3 BlockLSTM BlockLSTMV2 LSTMBlockCell GRUBlockCell _FusedConv2D _FusedMatMul _MklMatMul _FusedBatchNormEx',
  'ResizeBilinear ResizeNearestNeighbor ResizeBicubic ResizeArea ScaleAndTranslate CropAndResize ImageProjectiveTransformV2 ImageProjectiveTransformV3 AdjustContrastv2 AdjustHue AdjustSaturation RGBToHSV HSVToRGB DecodeJpeg DecodePng DecodeImage DecodeGif DecodeBmp EncodeJpeg EncodePng',
  // random
  'RandomUniform RandomUniformInt RandomStandardNormal TruncatedNormal Multinomial RandomShuffle RandomGamma RandomPoisson RandomPoissonV2 StatelessRandomUniform StatelessRandomUniformV2 StatelessRandomNormal StatelessRandomNormalV2 StatelessTruncatedNormal StatelessTruncatedNormalV2 StatelessRandomUniformInt StatelessRandomUniformIntV2 StatelessRandomGetKeyCounter StatelessRandomGetKeyCounterAlg StatelessRandomGetAlg RngBitGenerator RngReadAndSkip StatefulUniform StatefulStandardNormalV2 StatefulUniformInt StatefulTruncatedNormal',
  // strings and parsing (in memory)
  'StringJoin StringSplit StringSplitV2 StringStrip StringLength StringLower StringUpper StringToNumber AsString Substr RegexReplace StaticRegexReplace RegexFullMatch StaticRegexFullMatch StringToHashBucket StringToHashBucketFast StringToHashBucketStrong UnicodeDecode UnicodeDecodeWithOffsets UnicodeEncode UnicodeScript UnicodeTranscode ReduceJoin EncodeBase64 DecodeBase64 DecodeRaw DecodeCompressed',
  'ParseExample ParseExampleV2 ParseSingleExample ParseSequenceExample ParseSequenceExampleV2 ParseTensor SerializeTensor DecodeCSV DecodeJSONExample StringNGrams RaggedTensorToTensor RaggedTensorToVariant RaggedTensorFromVariant RaggedRange RaggedGather RaggedTensorToSparse SparseToDense SparseTensorDenseMatMul SparseReshape SparseFillEmptyRows SparseSegmentSum SparseSegmentMean SparseSegmentSqrtN SparseReorder SparseAdd SparseConcat SparseSlice SparseReduceSum SparseSoftmax',
  // datasets in memory
  'TensorDataset TensorSliceDataset BatchDataset BatchDatasetV2 MapDataset ParallelMapDataset ParallelMapDatasetV2 FilterDataset PrefetchDataset RepeatDataset ShuffleDataset ShuffleDatasetV2 ShuffleDatasetV3 TakeDataset SkipDataset ZipDataset ConcatenateDataset FlatMapDataset InterleaveDataset ParallelInterleaveDatasetV4 RangeDataset OptimizeDataset OptimizeDatasetV2 ModelDataset AnonymousIteratorV2 AnonymousIteratorV3 IteratorGetNext IteratorGetNextSync MakeIterator DeleteIterator IteratorV2 DatasetCardinality',
  // distribution / misc
  'NoOp Timestamp Unbatch Batch _Arg _Retval _DeviceArg _DeviceRetval _ReadVariablesOp _VarHandlesOp VarHandleOp DisableCopyOnRead XlaSharding XlaCallModule',
];
export const SAFE_TF_OPS: ReadonlySet<string> = new Set(
  GROUPS.flatMap((g) => g.split(/\s+/)).filter(Boolean),
);
