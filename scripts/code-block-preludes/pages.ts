// Stand-in: fetches a web page and the links on it.
interface Page {
  url: string;
  html: string;
  links: string[];
}
declare function fetchPage(url: string, options?: { signal?: AbortSignal }): Promise<Page>;
