/**
 * pandas: DataFrame/Series, indexes, extension arrays and dtypes, block managers and the unpickle helpers
 * pandas writes, generated from the installed pandas by test/fixtures/pickle/gen_profiles.py.
 */
import { pandasNames } from './pandas-generated.js';

export const pandasProfile: readonly string[] = [
  ...pandasNames,
  // Time zones and offsets pandas objects carry.
  'dateutil.relativedelta.relativedelta',
  'dateutil.tz.tz.tzutc',
  'dateutil.tz.tz.tzoffset',
  'dateutil.tz.tz.tzlocal',
  'pytz._UTC',
  'pytz._p',
  'zoneinfo.ZoneInfo',
  'pandas._libs.tslibs.timestamps.Timestamp',
  'pandas._libs.tslibs.timedeltas.Timedelta',
  'pandas.core.indexes.base._new_Index',
  'pandas.core.internals.blocks.new_block',
  'pandas.core.internals.blocks.Block',
  'pandas._libs.internals.BlockPlacement',
];
