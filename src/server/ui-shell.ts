/** The dashboard's page shell and stylesheet: static, no inline script (the CSP allows only /assets/app.js). */
export const INDEX_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Antidote</title><link rel="stylesheet" href="/assets/app.css"></head>
<body><header><a class="brand" href="#/runs">Antidote</a><nav id="nav"></nav><span id="who"></span></header>
<main id="main"><noscript>The dashboard needs JavaScript.</noscript></main>
<script type="module" src="/assets/app.js"></script></body></html>
`;

export const APP_CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
header{display:flex;gap:18px;align-items:center;background:#1d2430;color:#fff;padding:10px 20px}
header a{color:#dfe6ee;text-decoration:none}header a.active{color:#fff;font-weight:600;border-bottom:2px solid #fff}
.brand{font-weight:700;color:#fff!important}nav{display:flex;gap:14px;flex:1}#who{font-size:12px;color:#b9c3cf}
main{max-width:1180px;margin:0 auto;padding:20px}
h1{font-size:20px;margin:0 0 10px}h2{font-size:16px;margin:22px 0 8px;border-bottom:1px solid #dde1e6;padding-bottom:4px}
table{border-collapse:collapse;width:100%;background:#fff;margin:8px 0;font-size:13px}
th,td{border:1px solid #e1e4e8;padding:5px 8px;text-align:left;vertical-align:top}th{background:#f0f2f5}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.v-block,.v-promote,.v-pass,.v-promote-with-caveats{font-weight:600}.v-block{color:#b01c1c}.v-promote,.v-pass{color:#1d6b32}.v-promote-with-caveats{color:#8a5300}
tr.flag td{background:#fde8e8}.chart{background:#fff;border:1px solid #e1e4e8;border-radius:6px;padding:8px;margin:8px 0;overflow-x:auto}
.card{background:#fff;border:1px solid #dfe3e8;border-radius:8px;padding:16px;margin:10px 0}
.rowtext{font-size:17px;line-height:1.6;white-space:pre-wrap;word-break:break-word}
mark{background:#ffd54f;padding:0 2px;border-radius:2px}
.keys kbd{border:1px solid #aab;border-bottom-width:2px;border-radius:3px;padding:0 5px;background:#fff;font-size:12px}
.muted{color:#5a6270;font-size:12px}.err{color:#b01c1c}.ok{color:#1d6b32}
.pill{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;background:#e8ecf1;margin-right:6px}
.pill.confirm{background:#fde0e0;color:#8a1616}.pill.clear{background:#e0f3e6;color:#135c2b}
.pill.contradicts{background:#fde0e0;color:#8a1616;font-weight:600}tr.contradicts td{background:#fff6f6}
input,button,select{font:inherit;padding:5px 9px}button{cursor:pointer}
iframe.report{width:100%;height:900px;border:1px solid #dfe3e8;background:#fff}
.login{max-width:460px;margin:60px auto}.login input{width:100%;box-sizing:border-box;margin:8px 0}
`;
