// Shared slipway.yaml texts for the spec tests (not a test file itself, so importing it
// does not re-run any tests).

// The documented example (every key, with comments), as a user would write it.
export const FULL_EXAMPLE = `app: hello                      # required
build:                          # optional; each step a string or {name, run, timeout}
  - npm ci
test:                           # optional; same form
  - npm test
artifact:                       # optional; default: include null (= whole checkout)
  include: [server.js, package.json, node_modules]
service:                        # required
  command: node server.js       # required non-empty string
  instances: 2                  # integer 1..100, default 1
  env: {KEY: value}
  drain_timeout: 30s
  stop_grace: 10s
  health:
    path: /healthz
    interval: 1s
    timeout: 2s
    deadline: 60s
environments:                   # required mapping, in promotion order
  staging: {}
  production:
    approval: true
    instances: 3
    env: {KEY: value}
    strategy:
      rolling: {max_surge: 1, max_unavailable: 0}
`;
