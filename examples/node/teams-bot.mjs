// A minimal Teams bot for groupgate's approval cards: plain `node:http`, no
// Bot Framework SDK. It receives the Bot Framework's activities (the card's
// approve and reject clicks arrive as `adaptiveCard/action` invokes) and
// hands each request, headers and raw body untouched, to the engine, which
// checks the Bot Framework token, the button's action token and the
// approver, records the approval, and answers with the refreshed card.
//
//   node examples/node/teams-bot.mjs groupgate.yaml [port]
//
// (An installed package is imported as `groupgate`; in this repository the
// example imports the package folder.)
import { createServer } from 'node:http'
import { pathToFileURL } from 'node:url'
import { Engine } from '../../bindings/node/index.mjs'

const MAX_BODY = 64 * 1024

/** Reads a request's raw body, at most 64 KiB. */
function readBody(request) {
  return new Promise((resolve, reject) => {
    const chunks = []
    let size = 0
    request.on('data', (chunk) => {
      size += chunk.length
      if (size > MAX_BODY) {
        reject(Object.assign(new Error('the request body is larger than 64 KiB'), { status: 413 }))
        request.destroy()
        return
      }
      chunks.push(chunk)
    })
    request.on('end', () => resolve(Buffer.concat(chunks)))
    request.on('error', reject)
  })
}

function send(response, status, body) {
  if (body === null || body === undefined) {
    response.writeHead(status).end()
  } else {
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body))
  }
}

/** The bot's HTTP server: `POST /api/messages` is its messaging endpoint. */
export function createBot(engine, { log = () => {} } = {}) {
  return createServer(async (request, response) => {
    if (request.method !== 'POST' || request.url !== '/api/messages') {
      send(response, 404, null)
      return
    }
    try {
      const body = await readBody(request)
      const reply = await engine.handleTeamsActivity(request.headers, body)
      log(reply)
      send(response, reply.status, reply.body)
    } catch (error) {
      log({ error })
      send(response, error.status || 500, null)
    }
  })
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [config, port = '3978'] = process.argv.slice(2)
  if (!config) {
    console.error('usage: node examples/node/teams-bot.mjs <worker settings file> [port]')
    process.exit(2)
  }
  const engine = Engine.fromConfig(config)
  const bot = createBot(engine, {
    log: (reply) => console.log(reply.error ? `error: ${reply.error.message}` : `${reply.ticket ?? '-'}: ${reply.status} counted=${reply.counted ?? '-'}`),
  })
  bot.listen(Number(port), '127.0.0.1', () => console.log(`the bot listens on http://127.0.0.1:${bot.address().port}/api/messages`))
}
