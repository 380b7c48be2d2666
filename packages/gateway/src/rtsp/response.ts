/** RTSP/1.0 status lines the gateway answers with (RFC 2326 section 7.1.1). */
export const RTSP_STATUS: Record<number, string> = {
  200: 'OK',
  302: 'Moved Temporarily',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Large',
  455: 'Method Not Valid in This State',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  505: 'RTSP Version Not Supported',
};

export const SERVER_NAME = 'StreamHaven-gateway';

/** Serialize a response. Header values must not contain CR/LF (callers pass fixed or checked values). */
export function rtspResponse(status: number, cseq: string | undefined, headers: Array<[string, string]> = [], body?: string, reason?: string): Buffer {
  let out = `RTSP/1.0 ${status} ${reason ?? RTSP_STATUS[status] ?? 'Unknown'}\r\n`;
  if (cseq !== undefined) out += `CSeq: ${cseq}\r\n`;
  out += `Server: ${SERVER_NAME}\r\n`;
  for (const [k, v] of headers) out += `${k}: ${v.replace(/[\r\n]/g, '')}\r\n`;
  if (body !== undefined && body.length > 0) out += `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  else out += '\r\n';
  return Buffer.from(out, 'latin1');
}
