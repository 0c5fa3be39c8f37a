import { MAX_RECENT_LIMIT } from '../reporting-index.service';
import { IntQueryParam } from './int-query-param';

export class RecentAnomaliesQuery {
  @IntQueryParam('limit', 1, MAX_RECENT_LIMIT, 50, 'How many anomalous rows to return at most')
  limit: number = 50;
}
