// Stand-ins: the ids of users to fetch, and a function that fetches one.
interface User {
  id: string;
  name: string;
  email: string;
  active: boolean;
  isAdmin: boolean;
}
declare const ids: string[];
declare function fetchUser(id: string, options?: { signal?: AbortSignal }): Promise<User>;
