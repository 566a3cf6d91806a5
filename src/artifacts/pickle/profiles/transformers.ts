/**
 * Hugging Face transformers/accelerate training arguments and the enums they hold (what `training_args.bin`
 * contains: a dataclass instance whose fields are plain data and these enums).
 */
export const transformersProfile: readonly string[] = [
  'transformers.training_args.TrainingArguments',
  'transformers.training_args_seq2seq.Seq2SeqTrainingArguments',
  'transformers.training_args_tf.TFTrainingArguments',
  'transformers.training_args.OptimizerNames',
  'transformers.training_args.ParallelMode',
  'transformers.trainer_utils.IntervalStrategy',
  'transformers.trainer_utils.EvaluationStrategy',
  'transformers.trainer_utils.SaveStrategy',
  'transformers.trainer_utils.HubStrategy',
  'transformers.trainer_utils.SchedulerType',
  'transformers.trainer_utils.FSDPOption',
  'transformers.trainer_utils.ShardedDDPOption',
  'transformers.debug_utils.DebugOption',
  'transformers.utils.generic.PaddingStrategy',
  'transformers.utils.generic.ExplicitEnum',
  'transformers.trainer_callback.TrainerState',
  'transformers.trainer_pt_utils.AcceleratorConfig',
  'transformers.training_args.AcceleratorConfig',
  'transformers.generation.configuration_utils.GenerationConfig',
  'accelerate.utils.dataclasses.DistributedType',
  'accelerate.utils.dataclasses.ProjectConfiguration',
  'accelerate.utils.dataclasses.GradientAccumulationPlugin',
  'accelerate.utils.dataclasses.DataLoaderConfiguration',
  'accelerate.utils.dataclasses.PrecisionType',
  'accelerate.utils.dataclasses.LoggerType',
  'accelerate.utils.dataclasses.DynamoBackend',
  'accelerate.utils.dataclasses.ComputeEnvironment',
  'accelerate.utils.dataclasses.SageMakerDistributedType',
];
