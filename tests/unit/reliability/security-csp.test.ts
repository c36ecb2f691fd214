import type { IndexHtmlTransformContext, Plugin } from 'vite';
import { describe, expect, it } from 'vitest';
import { connectSrcFromEnv, cspDirectives, cspHeader, cspMeta, cspPlugin, noEvalProbePlugin } from '../../../scripts/vite/csp';

/** The Content-Security-Policy the build ships (scripts/vite/csp.ts); the e2e proves the app runs under it. */

const directive = (policy: string, name: string) => policy.split('; ').find((d) => d.startsWith(`${name} `));

describe('the Content-Security-Policy', () => {
  it('allows only the app itself, WebAssembly compilation and the model hub', () => {
    const header = cspHeader();
    expect(directive(header, 'default-src')).toBe("default-src 'self'");
    expect(directive(header, 'script-src')).toBe("script-src 'self' 'wasm-unsafe-eval' blob:");
    expect(directive(header, 'style-src')).toBe("style-src 'self'");
    expect(directive(header, 'object-src')).toBe("object-src 'none'");
    expect(directive(header, 'base-uri')).toBe("base-uri 'self'");
    expect(directive(header, 'form-action')).toBe("form-action 'self'");
    expect(directive(header, 'frame-ancestors')).toBe("frame-ancestors 'none'");
    expect(directive(header, 'connect-src')).toBe("connect-src 'self' https://huggingface.co https://*.huggingface.co https://*.hf.co");
    expect(header).not.toMatch(/'unsafe-inline'|'unsafe-eval'|\s\*(\s|;|$)|https:(\s|;|$)/);
  });

  it('leaves out of the <meta> what only a header can carry', () => {
    expect(cspMeta()).toBe(cspHeader().replace("; frame-ancestors 'none'", ''));
  });

  it('adds a custom model host to connect-src, and refuses anything that is not an origin', () => {
    const hosts = connectSrcFromEnv('https://models.example.org, http://10.0.0.5:8080');
    expect(hosts).toEqual(['https://models.example.org', 'http://10.0.0.5:8080']);
    expect(directive(cspHeader({ connectSrc: hosts }), 'connect-src')).toMatch(/\*\.hf\.co https:\/\/models\.example\.org http:\/\/10\.0\.0\.5:8080$/);
    expect(connectSrcFromEnv(undefined)).toEqual([]);
    // A value that would smuggle in another directive, or open everything, stops the build.
    for (const bad of ["https://x.org; script-src 'unsafe-inline'", '*', 'https:', 'javascript:alert(1)', "'unsafe-eval'"]) {
      expect(() => cspDirectives({ connectSrc: connectSrcFromEnv(bad) }), bad).toThrow(/LOUPE_CSP_CONNECT_SRC: .* is not an origin/);
    }
  });

  it('is injected first into <head> of production builds only', () => {
    const plugin = cspPlugin();
    expect(plugin.apply).toBe('build');
    const hook = plugin.transformIndexHtml as unknown as (html: string, context: IndexHtmlTransformContext) => unknown;
    const tags = hook('<html></html>', { path: '/index.html', filename: 'index.html' });
    expect(tags).toEqual([{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: cspMeta() }, injectTo: 'head-prepend' }]);
  });
});

describe('the eval probe in onnxruntime-web', () => {
  const transform = (plugin: Plugin, code: string, id: string) => (plugin.transform as (code: string, id: string) => { code: string } | null).call({}, code, id);
  const probe = 'function inquire(n){try{var m=eval("quire".replace(/^/,"re"))(n);if(m)return m}catch(e){}return null}';

  it('is replaced by a call that fails the same way, without eval', () => {
    const out = transform(noEvalProbePlugin(), probe, '/app/node_modules/onnxruntime-web/dist/ort-web.min.js')!;
    expect(out.code).not.toContain('eval(');
    const inquire = new Function(`${out.code}; return inquire;`)() as (name: string) => unknown;
    expect(inquire('fs')).toBeNull();
  });

  it('leaves every other file alone', () => {
    expect(transform(noEvalProbePlugin(), probe, '/app/src/lib/whatever.ts')).toBeNull();
    expect(transform(noEvalProbePlugin(), 'const x = 1;', '/app/node_modules/onnxruntime-web/dist/ort-web.min.js')).toBeNull();
  });
});
