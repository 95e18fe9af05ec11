/** npm run migrate [-- down [N]] — apply pending migrations (or roll back N, default 1). */
import { openDatabase } from '../db.js';
import { UserError } from '../errors.js';
import { migrate } from '../migrate.js';
import { runMain } from './main.js';

runMain('migrate', async () => {
  const [direction = 'up', countArg] = process.argv.slice(2);
  if (direction !== 'up' && direction !== 'down') throw new UserError('usage: migrate [up|down [N]]');
  const count = countArg === undefined ? undefined : Number(countArg);
  if (count !== undefined && (!Number.isInteger(count) || count < 1)) throw new UserError(`migrate: N must be a positive whole number, got "${countArg}"`);
  const db = await openDatabase({ migrate: false });
  try {
    const done = await migrate(db.config, direction, count, () => undefined);
    console.log(done.length ? `${direction === 'up' ? 'applied' : 'rolled back'}: ${done.join(', ')}` : 'migrations: up to date');
  } finally {
    await db.close();
  }
});
