// The example's own test step: start the server on a free port and check it answers.
import { spawn } from 'node:child_process';
import net from 'node:net';

const port = await new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
});
const child = spawn(process.execPath, ['server.js'], { env: { ...process.env, PORT: String(port) }, stdio: 'inherit' });
try {
  for (let i = 0; i < 50; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) { console.log('healthz ok'); process.exitCode = 0; break; }
    } catch { await new Promise((r) => setTimeout(r, 100)); }
    process.exitCode = 1;
  }
} finally {
  child.kill('SIGTERM');
}
