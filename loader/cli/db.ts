/** npm run db:start | db:stop | db:url — manage the embedded PostgreSQL. */
import { redactUrl, resolveDbTarget } from '../config.js';
import { embeddedOptions } from '../db.js';
import { embeddedStatus, embeddedUrl, startEmbedded, stopEmbedded } from '../embedded.js';
import { UserError } from '../errors.js';
import { projectRoot } from '../paths.js';
import { runMain } from './main.js';

const usage = 'usage: db <start|stop|url|status>';

runMain('db', async () => {
  const action = process.argv[2];
  const target = resolveDbTarget(process.env, projectRoot);
  if (target.kind !== 'embedded') {
    if (action === 'url' && target.kind === 'url') return void console.log(redactUrl(target.connectionString));
    throw new UserError(`db ${action ?? ''}: DATABASE_URL or PGHOST is set, so the embedded server is not used`);
  }
  const o = embeddedOptions(target);
  switch (action) {
    case 'start': {
      const server = await startEmbedded(o);
      console.error(server.startedHere ? `embedded PostgreSQL started on port ${server.port}` : `embedded PostgreSQL already running on port ${server.port}`);
      console.log(server.url);
      return;
    }
    case 'stop':
      console.error((await stopEmbedded(o)) ? 'embedded PostgreSQL stopped' : 'embedded PostgreSQL was not running');
      return;
    case 'url': {
      const running = embeddedStatus(o);
      console.log(embeddedUrl(o, running?.port ?? o.port));
      return;
    }
    case 'status': {
      const running = embeddedStatus(o);
      console.log(running ? `running (pid ${running.pid}, port ${running.port})` : 'stopped');
      return;
    }
    default:
      throw new UserError(usage);
  }
});
