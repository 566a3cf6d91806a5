/** MITRE ATLAS technique ids used by Antidote's rules (https://atlas.mitre.org). */
export const ATLAS = {
  /** Unsafe AI Artifacts: a model file that runs code when loaded. */
  unsafeArtifacts: 'AML.T0011.000',
  /** AI Supply Chain Compromise. */
  supplyChain: 'AML.T0010',
  /** AI Supply Chain Compromise: Model. */
  supplyChainModel: 'AML.T0010.003',
  /** Poison Training Data. */
  poisonData: 'AML.T0020',
  /** Manipulate AI Model (incl. backdoors). */
  manipulateModel: 'AML.T0018',
  /** Manipulate AI Model: Poison AI Model. */
  poisonModel: 'AML.T0018.000',
  /** Manipulate AI Model: Modify AI Model Architecture. */
  modifyArchitecture: 'AML.T0018.001',
  /** Backdoor ML Model: Insert Backdoor Trigger. */
  backdoorTrigger: 'AML.T0043',
  /** Erode AI Model Integrity. */
  erodeIntegrity: 'AML.T0031',
} as const;
