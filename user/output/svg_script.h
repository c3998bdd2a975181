/* The script and style of the svg flame graph (output/svg.c): layout from
 * each frame's data-x/-w/-d (share of the total and depth), hover details,
 * click zoom, search highlight, icicle/flame toggle.  Plain DOM, no
 * framework.  A location hash "#icicle", "#zoom=NAME" (the first frame of
 * that name) or "#search=RE", joined by '&', applies those at load (used by
 * the tests). */
#ifndef EBPROF_SVG_SCRIPT_H
#define EBPROF_SVG_SCRIPT_H

#define SVG_STYLE                                                       \
	"text{font-family:Verdana,sans-serif;font-size:12px;fill:#000}" \
	".f{cursor:pointer}.f text{pointer-events:none}"                \
	".f:hover rect{stroke:#000;stroke-width:1}"                     \
	".hl rect{fill:#e040e0}.btn{cursor:pointer;fill:#204080}"       \
	".anc rect{opacity:0.6}"

#define SVG_SCRIPT                                                                                 \
	"var W=1200,FH=16,H,flame=true,svg,frames,details,matched,zoomed=null;\n"                  \
	"function init(evt){svg=document.documentElement;try{\n"                                   \
	" frames=[].slice.call(document.querySelectorAll('g.f'));\n"                               \
	" details=document.getElementById('details');matched=document.getElementById('matched');"  \
	"\n"                                                                                       \
	" H=+svg.getAttribute('height');\n"                                                        \
	" frames.forEach(function(g){\n"                                                           \
	"  "                                                                                       \
	"g.addEventListener('mouseover',function(){details.textContent=g.getAttribute('data-info'" \
	");});\n"                                                                                  \
	"  g.addEventListener('mouseout',function(){details.textContent=' ';});\n"                 \
	"  g.addEventListener('click',function(e){zoomed=g;layout();e.stopPropagation();});});\n"  \
	" var h=decodeURIComponent(location.hash.slice(1));\n"                                     \
	" if(h.indexOf('icicle')>=0)flame=false;\n"                                                \
	" layout();\n"                                                                             \
	" var z=/zoom=([^&]*)/.exec(h);if(z)frames.forEach(function(g){\n"                         \
	"  if(!zoomed&&g.getAttribute('data-n')===z[1]){zoomed=g;layout();}});\n"                  \
	" var m=/search=([^&]*)/.exec(h);if(m)search(m[1]);\n"                                     \
	" svg.setAttribute('data-rendered',String(frames.length));\n"                              \
	"}catch(e){svg.setAttribute('data-error',String(e));throw e;}}\n"                          \
	"function yOf(d){return flame?H-40-(d+1)*FH:44+d*FH;}\n"                                   \
	"function layout(){\n"                                                                     \
	" var "                                                                                    \
	"zx=zoomed?+zoomed.getAttribute('data-x'):0,zw=zoomed?+zoomed.getAttribute('data-w'):1;\n" \
	" var zd=zoomed?+zoomed.getAttribute('data-d'):0,e=1e-9,span=W-20;\n"                      \
	" frames.forEach(function(g){\n"                                                           \
	"  var "                                                                                   \
	"x=+g.getAttribute('data-x'),w=+g.getAttribute('data-w'),d=+g.getAttribute('data-d');\n"   \
	"  var r=g.querySelector('rect'),t=g.querySelector('text'),px,pw;\n"                       \
	"  var anc=d<zd&&x<=zx+e&&x+w>=zx+zw-e;\n"                                                 \
	"  if(anc){px=0;pw=span;}else "                                                            \
	"if(x>=zx-e&&x+w<=zx+zw+e&&d>=zd){px=(x-zx)/zw*span;pw=w/zw*span;}\n"                      \
	"  else{g.style.display='none';return;}\n"                                                 \
	"  if(pw<0.3){g.style.display='none';return;}\n"                                           \
	"  g.style.display='';g.classList.toggle('anc',anc);\n"                                    \
	"  r.setAttribute('x',10+px);r.setAttribute('width',Math.max(pw-0.5,0.3));\n"              \
	"  r.setAttribute('y',yOf(d));r.setAttribute('height',FH-1);\n"                            \
	"  t.setAttribute('x',13+px);t.setAttribute('y',yOf(d)+FH-4);\n"                           \
	"  var n=g.getAttribute('data-n'),c=Math.floor((pw-6)/7);\n"                               \
	"  t.textContent=c<3?'':n.length<=c?n:n.slice(0,c-2)+'..';});\n"                           \
	" document.getElementById('toggle').textContent=flame?'Icicle':'Flame';}\n"                \
	"function unzoom(){zoomed=null;layout();}\n"                                               \
	"function toggle(){flame=!flame;layout();}\n"                                              \
	"function search(term){\n"                                                                 \
	" if(term===undefined)term=prompt('Search (regular expression)','');\n"                    \
	" frames.forEach(function(g){g.classList.remove('hl');});\n"                               \
	" if(!term){matched.textContent=' ';svg.removeAttribute('data-matched');return;}\n"        \
	" var re=new RegExp(term),hits=[];\n"                                                      \
	" frames.forEach(function(g){if(re.test(g.getAttribute('data-n'))){g.classList.add('hl');" \
	"\n"                                                                                       \
	"  hits.push([+g.getAttribute('data-x'),+g.getAttribute('data-w')]);}});\n"                \
	" hits.sort(function(a,b){return a[0]-b[0]||b[1]-a[1];});\n"                               \
	" var "                                                                                    \
	"sum=0,end=-1;hits.forEach(function(h){if(h[0]>=end-1e-12){sum+=h[1];end=h[0]+h[1];}});\n" \
	" var pct=(100*sum).toFixed(1)+'%';matched.textContent='Matched: '+pct;\n"                 \
	" svg.setAttribute('data-matched',pct);}\n"

#endif
