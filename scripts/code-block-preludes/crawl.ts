// Stand-ins: the pages a crawl starts from, and the links found in a page's HTML.
declare const seeds: string[];
declare function linksIn(html: string, base: string): string[];
