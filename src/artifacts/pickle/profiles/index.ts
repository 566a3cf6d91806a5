/** The named allowlist profiles. A profile is a list of exact fully qualified names (never prefixes). */
import { builtinsProfile } from './builtins.js';
import { joblibProfile } from './joblib.js';
import { numpyProfile } from './numpy.js';
import { pandasProfile } from './pandas.js';
import { scipyProfile } from './scipy.js';
import { sklearnProfile } from './sklearn.js';
import { torchProfile } from './torch.js';
import { transformersProfile } from './transformers.js';

export const PROFILES: Readonly<Record<string, readonly string[]>> = {
  builtins: builtinsProfile,
  numpy: numpyProfile,
  torch: torchProfile,
  sklearn: sklearnProfile,
  scipy: scipyProfile,
  pandas: pandasProfile,
  transformers: transformersProfile,
  joblib: joblibProfile,
};

export const PROFILE_NAMES = Object.keys(PROFILES);
